// The status line and the headline numbers.

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export class StatusPanel {
  constructor(root) {
    this.line = root.querySelector('[data-testid="status"]');
    this.trainLoss = root.querySelector('[data-testid="train-loss"]');
    this.valAcc = root.querySelector('[data-testid="val-acc"]');
    this.testAcc = root.querySelector('[data-testid="test-acc"]');
    this.speed = root.querySelector('[data-testid="images-per-s"]');
    this.info = root.querySelector('[data-testid="run-info"]');
  }

  message(text, { error = false } = {}) {
    this.line.textContent = text;
    this.line.classList.toggle('error', error);
  }

  progress(status, state, imagesPerSec) {
    const epoch = `Epoch ${status.epoch.toFixed(2)} / ${status.epochs}`;
    const step = `step ${fmt.format(status.step)} / ${fmt.format(status.total_steps)}`;
    const speed = imagesPerSec > 0 ? ` · ${fmt.format(imagesPerSec)} images/s` : '';
    this.message(`${epoch} · ${step}${speed} · ${state}`);
    if (imagesPerSec > 0) this.speed.textContent = fmt.format(imagesPerSec);
  }

  metrics({ trainLoss, valAcc, testAcc }) {
    if (trainLoss !== undefined) this.trainLoss.textContent = trainLoss == null ? '–' : trainLoss.toFixed(4);
    if (valAcc !== undefined) this.valAcc.textContent = valAcc == null ? '–' : valAcc.toFixed(4);
    if (testAcc !== undefined) this.testAcc.textContent = testAcc == null ? '–' : testAcc.toFixed(4);
  }

  runInfo(text) {
    this.info.textContent = text;
  }

  clear() {
    this.metrics({ trainLoss: null, valAcc: null, testAcc: null });
    this.speed.textContent = '–';
    this.runInfo('');
  }
}
