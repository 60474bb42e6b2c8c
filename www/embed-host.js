// The embed's side of the conversation with the page that frames it
// (www/embed.html inside an <iframe> or a <finetune-lab> element).
//
// Events out, each {source: 'finetune-lab', v: EMBED_VERSION, type, payload}:
//   ready    {state, experiment}                  the core is loaded, settings applied
//   progress {state, step, total_steps, epoch, train_loss, val_acc}   at most PROGRESS_PER_S a second
//   done     {runs: [{name, val_acc, test_acc}]}  a run list finished
//   error    {code, message}                      a run failed, or a message was refused
//   resize   {height}                             the embed's content height in CSS pixels
// Messages in, {source: 'finetune-lab-host', v: EMBED_VERSION, type, payload?}:
//   train | pause | step | reset                  press that button (when it is enabled)
//   set {name, value}                             one entry of the URL-state table (share.js)
// Anything else — another version, an unknown type, a setting that does not
// parse, a message not from the framing page — is answered with an `error`
// event (code EmbedMessageError) and changes nothing.
//
// An embed that is off screen (IntersectionObserver: in a frame, against the
// top page's viewport) or in a hidden tab pauses its training and resumes
// when seen again, so a lesson with five embeds trains only what is in view.

export const EMBED_VERSION = 1;
const PROGRESS_PER_S = 4;
const COMMANDS = ['train', 'pause', 'step', 'reset'];

export class EmbedHost {
  // `page`: {buttons, session, applyEntry(name, value) → problems, state()}.
  constructor(page) {
    this.page = page;
    this.target = window.parent !== window ? window.parent : null;
    this.lastProgress = 0;
    this.visible = true; // until the first observation says otherwise
    this.pausedUnseen = false;
    window.addEventListener('message', (event) => this.receive(event));
    // The body's own height: the document's scrollHeight is never less than
    // the frame, so a frame that once grew would never shrink again.
    new ResizeObserver(() => this.post('resize', { height: Math.ceil(document.body.getBoundingClientRect().height) })).observe(document.body);
    new IntersectionObserver((seen) => this.seen(seen.at(-1).isIntersecting)).observe(document.body);
    document.addEventListener('visibilitychange', () => this.seen(this.visible));
  }

  post(type, payload) {
    if (this.target) this.target.postMessage({ source: 'finetune-lab', v: EMBED_VERSION, type, payload }, '*');
  }

  // The events main.js reports.
  ready(experiment) {
    if (this.readySent) return; // a replaced worker is ready again; the embed was already
    this.readySent = true;
    this.post('ready', { state: this.page.session.state, experiment });
  }

  progress(run) {
    const now = performance.now();
    if (now - this.lastProgress < 1000 / PROGRESS_PER_S) return;
    this.lastProgress = now;
    const last = (list, field) => (list.length ? list.at(-1)[field] : null);
    this.post('progress', {
      state: this.page.session.state,
      step: run.status.step,
      total_steps: run.status.total_steps,
      epoch: run.status.epoch,
      train_loss: last(run.windows, 'loss'),
      val_acc: last(run.evals, 'val_acc'),
    });
  }

  done(runs) {
    this.post('done', { runs });
  }

  error(code, message) {
    this.post('error', { code, message });
  }

  refuse(message) {
    this.error('EmbedMessageError', message);
  }

  receive(event) {
    if (event.source !== window.parent || event.source === window) return; // not from the framing page
    const msg = event.data;
    if (!msg || typeof msg !== 'object' || msg.source !== 'finetune-lab-host') return this.refuse('a message to the embed is {source: "finetune-lab-host", v, type, payload}');
    if (msg.v !== EMBED_VERSION) return this.refuse(`message version ${JSON.stringify(msg.v)} is not this embed’s version ${EMBED_VERSION}`);
    if (COMMANDS.includes(msg.type)) {
      const button = this.page.buttons[msg.type];
      if (button.disabled) return this.refuse(`“${msg.type}” cannot be done now (the page is ${this.page.session.state})`);
      this.pausedUnseen = false;
      return button.click();
    }
    if (msg.type === 'set') {
      const { name, value } = msg.payload || {};
      if (typeof name !== 'string' || (typeof value !== 'string' && typeof value !== 'number')) return this.refuse('set takes {name, value}: a setting’s URL name and its value');
      const problems = this.page.applyEntry(name, String(value));
      if (problems.length) return this.refuse(`set ${name}: ${problems.join('; ')}`);
      return undefined;
    }
    return this.refuse(`unknown message type ${JSON.stringify(msg.type)} (${[...COMMANDS, 'set'].join(', ')})`);
  }

  // Training only what someone can see.
  seen(intersecting) {
    this.visible = intersecting;
    const visible = intersecting && !document.hidden;
    document.body.dataset.visible = String(visible);
    const { session, buttons } = this.page;
    if (!visible && session.state === 'training') {
      this.pausedUnseen = true;
      buttons.pause.click();
    } else if (visible && this.pausedUnseen) {
      this.pausedUnseen = false;
      if (!buttons.train.disabled) buttons.train.click();
    }
    if (visible) this.page.whenVisible();
  }
}
