"""The table every CPU kernel benchmark prints (conv, pool, softmax): one case per pair of rows.

    op          shape       pass       native  reference    torch  ref/nat nat/torch
    softmax     4096x1000   fwd         1.234      5.678    1.111      4.6      1.11
                            fwd+bwd     ...

A case's own columns come first (left-aligned, its name and shape on the first row only), then the
pass, then each contestant's time in ms ('-' where it was not measured), then two ratios:
reference / native (what the C++ buys) and native / torch (below 1 is faster than PyTorch).
"""

PASSES = ("fwd", "fwd+bwd")


class Table:
    """``case_columns``: {title: width} of the case's own columns; ``timed_columns``: {contestant:
    width}, which must include 'native' and 'reference' (and 'torch' for the last ratio);
    ``digits``: decimals of the times in ms."""

    def __init__(self, case_columns, timed_columns, digits=3):
        self.case_columns = case_columns
        self.timed_columns = timed_columns
        self.digits = digits

    def print_header(self):
        header = " ".join(
            [
                *(f"{title:<{width}}" for title, width in self.case_columns.items()),
                f"{'pass':<8}",
                *(f"{title:>{width}}" for title, width in self.timed_columns.items()),
                f"{'ref/nat':>8}",
                f"{'nat/torch':>9}",
            ]
        )
        print(header)
        print("-" * len(header))

    def print_case(self, cells, times):
        """The two rows of one case: ``cells``, the texts of its own columns; ``times``, {contestant:
        (forward, forward + backward) seconds}, a contestant or a time None where not measured."""
        for row, pass_name in enumerate(PASSES):

            def seconds(who):
                pair = times.get(who)
                return pair[row] if pair is not None else None

            native, torch = seconds("native"), seconds("torch")
            parts = [
                f"{cell if row == 0 else '':<{width}}"
                for cell, width in zip(cells, self.case_columns.values())
            ]
            parts.append(f"{pass_name:<8}")
            parts += [self._ms(seconds(who), width) for who, width in self.timed_columns.items()]
            parts.append(f"{seconds('reference') / native:8.1f}")
            parts.append(f"{native / torch:9.2f}" if torch else f"{'-':>9}")
            print(" ".join(parts), flush=True)

    def _ms(self, seconds, width):
        return f"{seconds * 1e3:{width}.{self.digits}f}" if seconds else f"{'-':>{width}}"
