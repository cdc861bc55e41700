"""Everything the pages draw, in one home with one look (theme.py): altair charts, the
frames behind them, digit pictures. No streamlit: every chart can be tested, drawn in
a notebook and saved for slides exactly as a page shows it.

    theme     colours, sizes, style(), the chart words from the i18n catalogs
    curves    one run's training curves: train vs test, the gap, the best epoch
    overlay   several runs on the same axes (Compare, a lesson's pair)
    masks     what dropout hid: the Playground's small mask, the Dropout page's maps and units
    lessons   dropout's two train accuracies, early stopping's stop, data size against the gap
    weights   L1 vs L2: weight histograms, the share near zero, the summary table
    digits    digits and their augmentations as pictures
    sweep     test accuracy and gap against a regularizer's strength
    mistakes  the confusion matrix

Chart words are never English defaults here: a builder takes `t`, the page's
translate function (regdemo.i18n.translate is the English one).
"""
