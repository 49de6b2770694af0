// What the pages' scripts share: calls to the platform's API with the person's session, and the platform's
// refusals (RFC 9457 problem details) shown to people.
//
//   callApi(path, {method, csrf, json, headers, body}) → the Response, or throws ProblemError / TypeError
//   problemOf(response) → the problem the response carries, or one made from its status
//   showProblem(box, problem), clearProblem(box) → a refusal in an element with role="alert"
//   fill(sentence, values) → a sentence the server wrote with {name} placeholders, filled in
//   download(link, text, name, type) → a link that saves `text` as a file, made in the browser
//
// A browser session calling the API proves it comes from our own page with the CSRF token the page was drawn
// with, in the x-csrf-token header (bidding/web.py BiddingCSRFMiddleware); safe requests need none. Every
// sentence shown comes from the server in the reader's language: the problem's own title and detail, or the
// data- attributes of a hidden element of the page.

const SAFE_METHODS = ["GET", "HEAD"];

export class ProblemError extends Error {
  constructor(problem) {
    super(problem.detail || problem.title);
    this.name = "ProblemError";
    this.problem = problem;
  }
}

/** The platform's words for a script: the data- attributes of the hidden element `id`. */
export function wordsOf(id) {
  return document.getElementById(id).dataset;
}

/** A sentence with {name} placeholders (drawn by the server in the reader's language), filled in. */
export function fill(sentence, values = {}) {
  return sentence.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** The problem a refused response carries; a response that is not problem JSON gets one from its status. */
export async function problemOf(response) {
  try {
    const problem = await response.json();
    if (problem && typeof problem.title === "string") return problem;
  } catch {
    // No body (HEAD), or not JSON (a proxy's error page): described by the status below.
  }
  return { title: `${response.status} ${response.statusText}`.trim(), status: response.status };
}

/**
 * Call the API as the signed-in person. Returns the response when it succeeded; throws ProblemError when the
 * platform refused, and TypeError (from fetch) when it could not be reached.
 */
export async function callApi(path, { method = "GET", csrf, json, headers = {}, body } = {}) {
  const sent = { accept: "application/json", ...headers };
  if (csrf && !SAFE_METHODS.includes(method)) sent["x-csrf-token"] = csrf;
  if (json !== undefined) {
    sent["content-type"] = "application/json";
    body = JSON.stringify(json);
  }
  const response = await fetch(path, { method, headers: sent, body, credentials: "same-origin" });
  if (!response.ok) throw new ProblemError(await problemOf(response));
  return response;
}

function paragraph(text) {
  const element = document.createElement("p");
  element.textContent = text;
  return element;
}

/**
 * Show `problem` in `box`: its title, its detail, and what is wrong with each field. The API lists fields as
 * [{pointer, detail}] (RFC 9457); the opening hall's websocket as {field: detail}.
 */
export function showProblem(box, problem) {
  box.replaceChildren(paragraph(problem.title));
  if (problem.detail) box.append(paragraph(problem.detail));
  const errors = Array.isArray(problem.errors)
    ? problem.errors.map((error) => error.detail)
    : Object.values(problem.errors ?? {});
  if (errors.length) {
    const list = document.createElement("ul");
    for (const error of errors) {
      const item = document.createElement("li");
      item.textContent = error;
      list.append(item);
    }
    box.append(list);
  }
  box.hidden = false;
  box.focus({ preventScroll: false });
}

/** Show a sentence of our own (a check made in the browser) in `box`, as showProblem does a refusal. */
export function showMessage(box, text) {
  showProblem(box, { title: text });
}

export function clearProblem(box) {
  box.hidden = true;
  box.replaceChildren();
}

/**
 * Make `link` save `text` as the file `name`. The file is made in the browser (a Blob): nothing is sent. The
 * link's previous file, if any, is let go.
 */
export function download(link, text, name, type = "text/plain") {
  if (link.dataset.objectUrl) URL.revokeObjectURL(link.dataset.objectUrl);
  const url = URL.createObjectURL(new Blob([text], { type }));
  link.dataset.objectUrl = url;
  link.href = url;
  link.download = name;
}
