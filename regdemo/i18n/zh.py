"""简体中文界面文字：与 en.py 的键完全相同，{占位符} 也相同。"""

STRINGS: dict[str, str] = {
}
