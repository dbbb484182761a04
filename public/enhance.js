// Progressive enhancement only: every page works without this file.
// Codes are shown once, as the answer to the POST that made them. Going Back to that answer would ask to
// send the form again; this names the page's history entry after a GET address that answers with a
// normal page instead (the codes are never shown again).
const shownOnce = document.querySelector('[data-history-url]');
if (shownOnce) history.replaceState(null, '', shownOnce.dataset.historyUrl);
// Copy and Print buttons on the recovery-codes page are hidden until this script shows them.
for (const button of document.querySelectorAll('[data-action="copy"]')) {
  if (!navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(button.dataset.copy ?? '');
      button.textContent = 'Copied';
    } catch {
      button.textContent = 'Copy failed: select the codes instead';
    }
    setTimeout(() => {
      button.textContent = 'Copy';
    }, 3000);
  });
}
for (const button of document.querySelectorAll('[data-action="print"]')) {
  button.hidden = false;
  button.addEventListener('click', () => window.print());
}
// Administration: "Select all" / "Remove all" change the selection here instead of posting the form.
for (const button of document.querySelectorAll('[data-select-all], [data-select-none]')) {
  const id = button.dataset.selectAll ?? button.dataset.selectNone;
  const select = document.getElementById(id);
  if (!select) continue;
  button.type = 'button';
  button.addEventListener('click', () => {
    for (const option of select.options) option.selected = button.dataset.selectAll !== undefined;
  });
}
