"""Batch norm: the lesson's pair (the catalog's setup without and with batch norm), side by side."""

from webapp.lesson_page import header, lesson_pair

header("nav.batchnorm", "batchnorm")
lesson_pair("batchnorm")
