"""Expected numbers for src/optim/tests.rs, computed in float64 from the
textbook update rules (PyTorch's conventions). Run: python3 tests/reference/optimizers.py

Each case starts from parameters p0 and feeds the same gradient sequence for
three steps; the printed values are pasted into the Rust test.
"""
import math

P0 = [0.5, -1.0, 2.0]
GRADS = [[0.1, -0.2, 0.3], [0.4, 0.0, -0.5], [-0.3, 0.2, 0.1]]
LR = 0.1


def run(update):
    p, state = list(P0), {}
    for t, g in enumerate(GRADS, start=1):
        for i in range(len(p)):
            p[i] = update(p[i], g[i], state.setdefault(i, {}), t)
    return p


def sgd(momentum=0.0, nesterov=False):
    def update(p, g, s, t):
        if momentum == 0.0:
            return p - LR * g
        s["v"] = momentum * s.get("v", 0.0) + g
        d = g + momentum * s["v"] if nesterov else s["v"]
        return p - LR * d
    return update


def adam(b1=0.9, b2=0.999, eps=1e-8):
    def update(p, g, s, t):
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        m_hat = s["m"] / (1 - b1 ** t)
        v_hat = s["v"] / (1 - b2 ** t)
        return p - LR * m_hat / (math.sqrt(v_hat) + eps)
    return update


def rmsprop(rho=0.9, eps=1e-8):
    def update(p, g, s, t):
        s["s"] = rho * s.get("s", 0.0) + (1 - rho) * g * g
        return p - LR * g / (math.sqrt(s["s"]) + eps)
    return update


def adagrad(eps=1e-8):
    def update(p, g, s, t):
        s["s"] = s.get("s", 0.0) + g * g
        return p - LR * g / (math.sqrt(s["s"]) + eps)
    return update


for name, fn in [("sgd", sgd()), ("momentum", sgd(0.9)), ("nesterov", sgd(0.9, True)),
                 ("adam", adam()), ("rmsprop", rmsprop()), ("adagrad", adagrad())]:
    print(name, [round(v, 7) for v in run(fn)])
