"""The public API's type hints work for a user: mypy passes a typed training loop and catches a
wrong argument type. (`mypy minidl` itself runs in CI; this checks what an editor sees.)"""

import pathlib
import textwrap

import pytest

api = pytest.importorskip("mypy.api", reason="mypy not installed")

ROOT = pathlib.Path(__file__).resolve().parent.parent

TRAINING_LOOP = """
    import minidl
    from minidl import nn, optim
    from minidl.data import DataLoader, TensorDataset
    from minidl.nn import functional as F

    minidl.manual_seed(0)
    x: minidl.Tensor = minidl.randn(64, 3)
    y: minidl.Tensor = minidl.randint(0, 2, (64,))
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    opt: optim.Optimizer = optim.AdamW(model.parameters(), lr=1e-2, betas=(0.9, 0.99))
    sched = optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
    for xb, yb in DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True):
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        sched.step()
    last: list[float] = sched.get_last_lr()
    minidl.save(model.state_dict(), "model.npz")
"""


def _mypy(tmp_path, source):
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent(source))
    # Errors inside minidl are `mypy minidl`'s business; here only the user's file is reported.
    out, err, status = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(program),
        ]
    )
    return out + err, status


def test_a_typed_training_loop_passes(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # mypy finds minidl (and its py.typed) from the repository root
    report, status = _mypy(tmp_path, TRAINING_LOOP)
    assert status == 0, report


def test_a_wrong_argument_type_is_caught(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    report, status = _mypy(
        tmp_path,
        """
        import minidl
        from minidl import optim
        opt = optim.SGD([minidl.zeros(3)], lr="fast")
        lrs: list[str] = optim.lr_scheduler.StepLR(opt, step_size=1).get_last_lr()
        minidl.zeros(2, 3, requires_grad="yes")
    """,
    )
    assert status == 1
    assert 'Argument "lr" to "SGD" has incompatible type "str"; expected "float"' in report
    assert "list[float]" in report and "list[str]" in report
    assert 'Argument "requires_grad" to "zeros" has incompatible type "str"' in report
