"""Optimizers and learning-rate schedules: plain Python over tensor operations.

optimizer.py     Optimizer: parameter groups, state, zero_grad, step, state_dict
sgd.py           SGD (momentum, Nesterov, weight decay)
adam.py          Adam (bias correction, AMSGrad)
adamw.py         AdamW (Adam with decoupled weight decay)
rmsprop.py       RMSprop (centered, momentum)
lr_scheduler.py  StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR, OneCycleLR

opt = minidl.optim.Adam(model.parameters(), lr=1e-3)
loss.backward(); opt.step(); opt.zero_grad()
"""

from . import lr_scheduler
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
