// Copy buttons: <button data-copy="ID"> puts the whole text of the element ID on the clipboard, and says so in
// the [data-copy-status] element beside it, in the words of its data-copied and data-failed attributes.
//
// Without this script the buttons stay hidden and the text is still there to select by hand. Browsers offer the
// clipboard only to pages served over HTTPS (or from this machine); elsewhere the text is shown selected instead.

function select(source) {
  source.closest("details")?.setAttribute("open", "");
  const range = document.createRange();
  range.selectNodeContents(source);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

for (const button of document.querySelectorAll("button[data-copy]")) {
  const source = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector("[data-copy-status]");
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      status.textContent = button.dataset.copied;
    } catch {
      select(source);
      status.textContent = button.dataset.failed;
    }
  });
}
