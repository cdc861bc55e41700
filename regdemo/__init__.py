"""Regularization Lab's library: training, runs, storage, teaching, viz, cli.

Never imports streamlit: the app, the CLI, the tests and the benchmark all use
the same pieces. This file imports nothing, so that `import regdemo.training.config`
in the Streamlit server does not pull in torch: the server draws from numbers and
uint8 arrays and leaves torch to its workers.
"""
