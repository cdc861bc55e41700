"""L2 / weight decay: the lesson's pair (the catalog's setup without and with L2), side by side.
The L1 vs L2 page shows how the two penalties shape the weights; this one, what L2 does to
test digits, and what Adam does to the same λ against AdamW."""

from webapp.lesson_page import header, lesson_pair

header("nav.l2", "l1_l2")
lesson_pair("l2")
lesson_pair("adamw")  # Adam + L2 against AdamW at the same λ: not the same regularizer
