// The guided tutorials, as data: each step says what it is about, the
// settings it applies (URL-state names, exactly as in a link; everything
// else goes back to its default, so a step is the same wherever you come
// from), which button to press and which panel to look at. tutorial.js
// shows them; `#tutorial=<name>` (or `<name>/<step>`) opens one.

export const TUTORIALS = {
  scratch: {
    title: 'Training from scratch: initialisation and learning rate',
    steps: [
      {
        text: 'An MLP learns MNIST digits from random weights: He initialisation (scaled for ReLU layers) and Adam at a learning rate of 0.001. Press Train and watch the loss fall within the first epoch.',
        settings: { model: 'mlp', epochs: '2', seed: '1' },
        press: 'train',
        look: 'loss-chart',
      },
      {
        text: 'The same network, its weights drawn uniformly at ±0.001: every layer shrinks the signal, so the network starts out predicting nothing (a loss of exactly 2.303, chance for ten classes) and lags behind — measured with this seed: validation accuracy about 0.75 after one epoch against 0.91 with He. Press Keep on charts first to compare it with the previous run, then Train.',
        settings: { model: 'mlp', epochs: '2', seed: '1', init: 'uniform', initScale: '0.001' },
        press: 'train',
        look: 'loss-chart',
      },
      {
        text: 'Back to He initialisation, now with plain SGD at the same rate of 0.001: each step is small and there is no momentum, so after two epochs it is still far behind Adam (about 0.4 validation accuracy, measured with this seed). The optimiser and its rate belong together.',
        settings: { model: 'mlp', epochs: '2', seed: '1', optimizer: 'sgd', lr: '0.001' },
        press: 'train',
        look: 'acc-chart',
      },
      {
        text: 'SGD at 0.1, a hundred times larger: now it is close behind Adam (about 0.87 against 0.92 after two epochs). Learning rates that work span orders of magnitude, and each optimiser has its own range.',
        settings: { model: 'mlp', epochs: '2', seed: '1', optimizer: 'sgd', lr: '0.1' },
        press: 'train',
        look: 'acc-chart',
      },
      {
        text: 'Too large: SGD at 1 with a strong L2 penalty multiplies the weights up at every step. The run stops at the step where the numbers overflow, says so, keeps its curves and its last finite weights, and suggests a smaller rate.',
        settings: { model: 'mlp', epochs: '2', seed: '1', optimizer: 'sgd', lr: '1', l2: '1000' },
        press: 'train',
        look: 'status',
      },
    ],
  },
  finetune: {
    title: 'Fine-tuning vs scratch: data economy and forgetting',
    steps: [
      {
        text: 'Five labelled images of each digit 5–9. One LeNet-5 learns them from random weights; the other starts from a LeNet-5 pretrained on digits 0–4 and gets a new head. Same images, seed and budget: press Train and compare the two validation curves.',
        settings: { experiment: 'new-classes', labelsPerClass: '5' },
        press: 'train',
        look: 'acc-chart',
      },
      {
        text: 'Fifty labelled images per class: the model from scratch catches up much of the way. What pretraining buys is largest when labels are few.',
        settings: { experiment: 'new-classes', labelsPerClass: '50' },
        press: 'train',
        look: 'acc-chart',
      },
      {
        text: 'The whole curve at once: the same pair for K = 1 to 200 labelled images per class (one short epoch each, so it takes a while). The gap between the two lines is the data a pretrained base saves.',
        settings: { experiment: 'data-economy', epochs: '1' },
        press: 'train',
        look: 'sweep-chart',
      },
      {
        text: 'What fine-tuning costs the old task: the 0–4 base learns 5–9 three ways (only the head, convolutions frozen, nothing frozen), and the dashed lines measure how well it still knows 0–4 through its old head. The more layers learn, the more it forgets.',
        settings: { experiment: 'forgetting', labelsPerClass: '5' },
        press: 'train',
        look: 'acc-chart',
      },
    ],
  },
};
