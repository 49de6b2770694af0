// The tender form's repeated rows: add and remove lots, criteria and sub-criteria, and keep their field names
// numbered in order (lots.0.criteria.1.children.0.points), as the server reads them.
//
// Without this script the form still works: the server draws a lot with a few blank criterion rows, and blank
// rows are ignored. New rows are copied from the <template> elements at the end of the form, drawn by the
// server with the same macros, so their labels are already in the reader's language.

const SEGMENTS = { lot: "lots", criterion: "criteria", child: "children" };

/** The row's position among the rows of its kind in the same list. */
function indexOf(row) {
  const kind = row.dataset.row;
  return [...row.parentElement.children].filter((sibling) => sibling.dataset.row === kind).indexOf(row);
}

/** The dotted path of the rows around an element, outermost first: "lots.0.criteria.1". */
function pathOf(element) {
  const parts = [];
  for (let row = element.closest("[data-row]"); row; row = row.parentElement.closest("[data-row]")) {
    parts.unshift(`${SEGMENTS[row.dataset.row]}.${indexOf(row)}`);
  }
  return parts.join(".");
}

/** Whether an element belongs to `row` itself rather than to a row nested in it. */
function ownedBy(element, row) {
  return element.closest("[data-row]") === row;
}

function renumber(form) {
  for (const element of form.querySelectorAll("[data-name], [data-for], [data-id]")) {
    const path = pathOf(element);
    if (!path) continue;
    if (element.dataset.name !== undefined) {
      element.name = `${path}.${element.dataset.name}`;
      element.id = element.name;
    }
    if (element.dataset.for !== undefined) element.htmlFor = `${path}.${element.dataset.for}`;
    if (element.dataset.id !== undefined) element.id = element.dataset.id ? `${path}.${element.dataset.id}` : path;
  }
  for (const row of form.querySelectorAll("[data-row]")) {
    const number = [...row.querySelectorAll("[data-number]")].find((element) => ownedBy(element, row));
    if (number) number.textContent = String(indexOf(row) + 1);
  }
}

/** Show a criterion's price formula only where it applies: a price criterion, or one with a formula already. */
function showFormula(row) {
  const kind = [...row.querySelectorAll("[data-name='kind']")].find((element) => ownedBy(element, row));
  const formula = [...row.querySelectorAll("[data-formula]")].find((element) => ownedBy(element, row));
  if (!kind || !formula) return;
  const filled = [...formula.querySelectorAll("input, select")].some((field) => field.value !== "");
  formula.hidden = kind.value !== "price" && !filled;
}

function reveal(root) {
  for (const button of root.querySelectorAll("[data-add], [data-remove]")) button.hidden = false;
  for (const row of root.querySelectorAll("[data-row='criterion']")) showFormula(row);
}

function copyOf(form, kind) {
  const template = form.querySelector(`template[data-template='${kind}']`);
  const row = template.content.firstElementChild.cloneNode(true);
  reveal(row);
  return row;
}

function add(form, button) {
  const kind = button.dataset.add;
  const scope = kind === "lot" ? form : button.closest(kind === "child" ? "[data-row='criterion']" : "[data-row='lot']");
  const list = [...scope.querySelectorAll(`[data-rows='${kind}']`)].find((element) =>
    kind === "lot" ? true : ownedBy(element, scope),
  );
  const row = copyOf(form, kind);
  list.append(row);
  renumber(form);
  row.querySelector("input, select")?.focus();
}

function remove(form, button) {
  const row = button.closest("[data-row]");
  const list = row.parentElement;
  row.remove();
  renumber(form);
  (list.querySelector("[data-row] input") ?? list.closest("fieldset, details")?.querySelector("[data-add]"))?.focus();
}

for (const form of document.querySelectorAll("form[data-tender-form]")) {
  reveal(form);
  form.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-add], button[data-remove]");
    if (!button || !form.contains(button)) return;
    event.preventDefault();
    if (button.dataset.add) add(form, button);
    else remove(form, button);
  });
  form.addEventListener("change", (event) => {
    const row = event.target.closest("[data-row='criterion']");
    if (row) showFormula(row);
  });
}
