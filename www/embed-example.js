// The lesson page's own script: it listens to the <finetune-lab> element's
// events and lists them, as a tutorial page might to react to a finished run.
const lab = document.querySelector('finetune-lab');
const log = document.querySelector('[data-testid="event-log"]');
for (const type of ['ready', 'progress', 'done', 'error']) {
  lab.addEventListener(type, (event) => {
    const li = document.createElement('li');
    li.dataset.type = type;
    li.textContent = `${type} ${JSON.stringify(event.detail)}`;
    log.append(li);
    // A long lesson keeps the last events only.
    while (log.children.length > 30) log.firstElementChild.remove();
  });
}
