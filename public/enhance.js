// Progressive enhancement only: every page works without this file.
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
