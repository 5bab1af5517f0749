"""``Parameter``: a tensor that a Module learns.

A Parameter is an ordinary Tensor with two differences:

- it requires grad by default (it is what the optimizer updates), and
- assigning one to a Module attribute (``self.weight = Parameter(...)``) registers it, so it shows
  up in ``module.parameters()`` and ``module.state_dict()``.

Wrapping a tensor does not copy its array: ``Parameter(t).data is t.data``. Ops on a Parameter
return plain Tensors; only the leaf itself is a Parameter.
"""

from typing import Any

from ..autograd.tensor import Tensor


class Parameter(Tensor):
    """Parameter(data=None, requires_grad=True)

    data: a Tensor (its array is shared, not copied), anything ``minidl.tensor`` accepts (copied),
    or None for an empty float tensor.
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = Tensor([])
        elif not isinstance(data, Tensor):
            data = Tensor(data)
        # Tensor.__init__ would copy the array; a Parameter shares it with the tensor it wraps.
        self.data = data.data
        self.grad = None
        self.grad_fn = None
        self._version = 0
        self._requires_grad = False
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
