// The claims gallery: one card per claim of MISSION.md, with a Run button
// that sets up its experiment and trains it, and afterwards what was
// measured and a verdict — "holds here", "does not hold here" or "mixed" —
// computed from the numbers by the rule the card states. A claim that does
// not hold says so; one the page cannot test yet says that instead.
//
// Each verdict reads the results the page collected for the runs: every
// run's validation curve, its last training and validation accuracy, its
// forgetting-meter curve and test accuracy, and the data-economy sweep's points.

const pts = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)} points`;
const acc = (x) => (x == null ? '–' : x.toFixed(3));
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// A three-way verdict from a measured difference and two thresholds.
const threeWay = (holds, fails) => (holds ? 'holds' : fails ? 'does not hold' : 'mixed');

export const CLAIMS = [
  {
    n: 1,
    text: 'Fine-tuning converges faster than training from scratch on the same small set.',
    settings: { experiment: 'new-classes', labelsPerClass: '5', epochs: '20' },
    rule: 'After a quarter of the epochs, the fine-tuned run’s validation accuracy is at least 5 points above the run from scratch: holds; not above it: does not hold; in between: mixed.',
    verdict(r) {
      const at = (name) => r.valAt(name, r.epochs / 4);
      const d = at('fine-tuned') - at('from scratch');
      return { verdict: threeWay(d >= 0.05, d <= 0), measured: `validation accuracy at epoch ${r.epochs / 4}: fine-tuned ${acc(at('fine-tuned'))}, from scratch ${acc(at('from scratch'))} (${pts(d)})` };
    },
  },
  {
    n: 2,
    text: 'Fine-tuning needs fewer labelled examples for the same accuracy.',
    settings: { experiment: 'data-economy', epochs: '20' },
    rule: 'At K = 1, 2, 5 and 10 labelled images per class, fine-tuned test accuracy is at least 1 point above from scratch at every K: holds; at none: does not hold; otherwise mixed.',
    verdict(r) {
      const few = r.sweep.filter((p) => p.k <= 10).sort((a, b) => a.k - b.k);
      const diffs = few.map((p) => p.accs['fine-tuned'] - p.accs['from scratch']);
      return {
        verdict: threeWay(diffs.length > 0 && diffs.every((d) => d >= 0.01), diffs.every((d) => d < 0.01)),
        measured: few.map((p, i) => `K = ${p.k}: ${pts(diffs[i])}`).join(', '),
      };
    },
  },
  {
    n: 3,
    text: 'With few examples, training from scratch overfits; dropout, L2 and augmentation shrink the gap.',
    settings: { experiment: 'overfitting', epochs: '20' },
    rule: 'The gap between last training and validation accuracy: both regularised runs at least 2 points below the run without: holds; neither below it: does not hold; otherwise mixed.',
    verdict(r) {
      const gap = (name) => r.runs.get(name).trainAcc - r.runs.get(name).valAcc;
      const [plain, aug, reg] = [gap('no regularisation'), gap('augmentation'), gap('dropout + L2')];
      return {
        verdict: threeWay(aug <= plain - 0.02 && reg <= plain - 0.02, aug >= plain && reg >= plain),
        measured: `gap without regularisation ${acc(plain)}, with augmentation ${acc(aug)}, with dropout + L2 ${acc(reg)}`,
      };
    },
  },
  {
    n: 4,
    text: 'Freezing early layers keeps source-task accuracy; fine-tuning everything forgets more.',
    settings: { experiment: 'forgetting', labelsPerClass: '20' },
    rule: 'At the end, the source task’s accuracy with only the head learning is at least 5 points above with every layer learning: holds; not above it: does not hold; in between: mixed.',
    verdict(r) {
      const [head, all] = [r.runs.get('head only').sourceLast, r.runs.get('all layers').sourceLast];
      return { verdict: threeWay(head - all >= 0.05, head - all <= 0), measured: `digits 0–4 kept: head only ${acc(head)}, convolutions frozen ${acc(r.runs.get('convs frozen').sourceLast)}, all layers ${acc(all)}` };
    },
  },
  {
    n: 5,
    text: 'When target and source tasks differ more, unfreezing more layers helps more.',
    settings: { experiment: 'unfreeze-depth', labelsPerClass: '20' },
    rule: 'What unfreezing every layer adds to test accuracy is at least 2 points larger from the far base (Fashion-MNIST) than from the near one (digits 0–4): holds; not larger: does not hold; in between: mixed.',
    verdict(r) {
      const t = (name) => r.runs.get(name).test;
      const near = t('near, all layers') - t('near, head only');
      const far = t('far, all layers') - t('far, head only');
      return { verdict: threeWay(far - near >= 0.02, far - near <= 0), measured: `unfreezing adds ${pts(near)} from the near base and ${pts(far)} from the far one` };
    },
  },
  {
    n: 6,
    text: 'He initialisation trains deep ReLU stacks where naive small-random init stalls; Xavier suits tanh.',
    settings: { experiment: 'initialisation', epochs: '3' },
    rule: 'He beats small uniform weights by at least 20 test-accuracy points on the ReLU network, and on tanh Xavier is within a point of He or better: holds; He not 20 points ahead: does not hold; only the first part: mixed.',
    verdict(r) {
      const t = (name) => r.runs.get(name).test;
      const relu = t('ReLU, He') - t('ReLU, small');
      const tanh = t('tanh, Xavier') - t('tanh, He');
      return {
        verdict: relu >= 0.2 ? (tanh >= -0.01 ? 'holds' : 'mixed') : 'does not hold',
        measured: `ReLU: He ${acc(t('ReLU, He'))}, Xavier ${acc(t('ReLU, Xavier'))}, small ${acc(t('ReLU, small'))}; tanh: Xavier ${acc(t('tanh, Xavier'))}, He ${acc(t('tanh, He'))}`,
      };
    },
  },
  {
    n: 7,
    text: 'Adaptive optimisers converge with less tuning than plain SGD; a too-large learning rate diverges.',
    settings: { experiment: 'optimizers', epochs: '3' },
    rule: 'At their usual rates the median test accuracy of Adam, RMSprop and Adagrad is at least 2 points above plain SGD’s, and the far-too-large rate diverges: holds; neither: does not hold; one of the two: mixed.',
    verdict(r) {
      const t = (name) => r.runs.get(name).test;
      const adaptive = median([t('Adam'), t('RMSprop'), t('Adagrad')]);
      const ahead = adaptive - t('SGD') >= 0.02;
      const diverged = Boolean(r.runs.get('SGD, far too large').stopped);
      return {
        verdict: ahead && diverged ? 'holds' : !ahead && !diverged ? 'does not hold' : 'mixed',
        measured: `median of the adaptive ones ${acc(adaptive)} against SGD ${acc(t('SGD'))} (${pts(adaptive - t('SGD'))}); the rate of 1 ${diverged ? 'diverged' : 'did not diverge'}`,
      };
    },
  },
  {
    n: 8,
    text: 'A skewed source dataset leaves its bias in the fine-tuned model (per-class accuracy shows it).',
    settings: { experiment: 'skewed-base', labelsPerClass: '20' },
    needsPerClass: true,
    rule: 'How far the digit 3’s test accuracy falls below the other digits’ mean: at least 5 points further for the run fine-tuned from the base that barely saw a 3 than for the run from scratch: holds; not further: does not hold; in between: mixed.',
    verdict(r) {
      const shortfall = (name) => {
        const classes = r.perClass(name);
        const three = classes.find((c) => c.class === '3').acc;
        const others = classes.filter((c) => c.class !== '3');
        return others.reduce((a, c) => a + c.acc, 0) / others.length - three;
      };
      const [fine, scratch] = [shortfall('fine-tuned'), shortfall('from scratch')];
      return {
        verdict: threeWay(fine - scratch >= 0.05, fine - scratch <= 0),
        measured: `the 3s trail the other digits by ${pts(fine).replace('+', '')} fine-tuned and ${pts(scratch).replace('+', '')} from scratch`,
      };
    },
  },
];

const VERDICT_TEXT = { holds: 'holds here', 'does not hold': 'does not hold here', mixed: 'mixed' };

export class ClaimsGallery {
  // `page`: {apply(settings), train(), results(epochs) → the collected results,
  // perClass() → Promise<Map(run name → per-class test accuracy)>, hashFor(settings)}.
  constructor(root, page) {
    this.root = root;
    this.page = page;
    this.active = null;
    this.cards = new Map();
    root.querySelector('.claim-cards').replaceChildren(...CLAIMS.map((claim) => this.card(claim)));
  }

  card(claim) {
    const li = document.createElement('li');
    li.className = 'claim-card';
    li.dataset.claim = String(claim.n);
    li.setAttribute('data-testid', 'claim-card');
    const text = Object.assign(document.createElement('p'), { className: 'claim-text', textContent: `${claim.n}. ${claim.text}` });
    li.append(text);
    if (claim.unavailable) {
      li.append(Object.assign(document.createElement('p'), { className: 'claim-outcome', textContent: claim.unavailable }));
      li.dataset.verdict = 'not measured';
      return li;
    }
    const rule = Object.assign(document.createElement('p'), { className: 'claim-rule', textContent: `Rule: ${claim.rule}` });
    const run = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Run' });
    run.setAttribute('data-testid', 'claim-run');
    run.addEventListener('click', () => this.run(claim));
    const open = Object.assign(document.createElement('a'), { href: this.page.hashFor(claim.settings), textContent: 'open the experiment' });
    const outcome = Object.assign(document.createElement('p'), { className: 'claim-outcome', textContent: 'Not run yet.' });
    outcome.setAttribute('data-testid', 'claim-outcome');
    const verdict = Object.assign(document.createElement('span'), { className: 'claim-verdict' });
    verdict.setAttribute('data-testid', 'claim-verdict');
    const actions = document.createElement('p');
    actions.className = 'claim-actions';
    actions.append(run, ' ', open, ' ', verdict);
    li.append(rule, actions, outcome);
    this.cards.set(claim.n, { li, outcome, verdict });
    return li;
  }

  run(claim) {
    this.active = claim;
    const card = this.cards.get(claim.n);
    card.outcome.textContent = 'Running… (the status above shows its progress)';
    card.verdict.textContent = '';
    delete card.li.dataset.verdict;
    this.page.apply(claim.settings);
    this.page.train();
  }

  // The run list (or the whole sweep) finished: the active claim's verdict.
  async finished() {
    const claim = this.active;
    if (!claim) return;
    this.active = null;
    const card = this.cards.get(claim.n);
    let result;
    try {
      const results = this.page.results(Number(claim.settings.epochs || 0));
      // Per-class test accuracy, measured by the core for the runs just ended.
      const perClass = claim.needsPerClass ? await this.page.perClass() : new Map();
      results.perClass = (name) => {
        if (!perClass.has(name)) throw new Error(`no per-class accuracy for “${name}”`);
        return perClass.get(name);
      };
      result = claim.verdict(results);
    } catch (err) {
      card.outcome.textContent = `The runs did not give what the rule needs (${err.message}).`;
      return;
    }
    card.li.dataset.verdict = result.verdict;
    card.verdict.textContent = VERDICT_TEXT[result.verdict];
    card.verdict.dataset.verdict = result.verdict;
    card.outcome.textContent = `Measured: ${result.measured}.`;
  }

  // Something else ran (Reset, another experiment): the claim's run is gone.
  abandon() {
    if (!this.active) return;
    this.cards.get(this.active.n).outcome.textContent = 'Stopped before the end; press Run again.';
    this.active = null;
  }
}

// What the claims' rules read, collected from the worker's messages for the
// configured runs: each run's evaluations, test accuracy, and whether it stopped early.
export class RunResults {
  constructor() {
    this.runs = new Map();
  }

  reset(names) {
    this.runs = new Map(names.map((name) => [name, { evals: [], test: null, stopped: null }]));
  }

  progress(runs) {
    for (const run of runs) this.runs.get(run.name)?.evals.push(...run.evals);
  }

  done(runs) {
    for (const run of runs) {
      const r = this.runs.get(run.name);
      if (r) r.test = run.test ? run.test.acc : null;
    }
  }

  stopped(name, message) {
    const r = this.runs.get(name);
    if (r) r.stopped = message;
  }

  // The view a rule reads; `sweep` is the data-economy chart's points.
  view(epochs, sweep) {
    const runs = new Map(
      [...this.runs].map(([name, r]) => {
        const last = r.evals.at(-1) || {};
        const withTrain = r.evals.filter((e) => e.train_acc != null).at(-1) || {};
        const source = r.evals.filter((e) => e.source_acc != null).at(-1);
        return [name, { test: r.test, valAcc: last.val_acc ?? null, trainAcc: withTrain.train_acc ?? null, sourceLast: source ? source.source_acc : null, stopped: r.stopped, evals: r.evals }];
      }),
    );
    const need = (name) => {
      if (!runs.has(name)) throw new Error(`no run named “${name}”`);
      return runs.get(name);
    };
    return {
      epochs,
      runs: { get: need },
      sweep,
      valAt: (name, epoch) => {
        const point = need(name).evals.find((e) => e.epoch >= epoch - 1e-9);
        if (!point) throw new Error(`“${name}” has no evaluation at epoch ${epoch}`);
        return point.val_acc;
      },
    };
  }
}
