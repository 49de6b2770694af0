// Live countdowns: every <time datetime="…" data-countdown> shows the time left, "3 天 04:12:09", once a second.
//
// The words come from the data-day, data-days and data-passed attributes of #countdown-words, written once per
// page by the server in the reader's language. Until this script runs the elements are hidden (site.css) and
// people read the absolute time printed beside them. The browser's clock only paints the countdown: the server's
// database clock decides.

const SECOND = 1000;
const words = document.getElementById("countdown-words").dataset;

function pad(number) {
  return String(number).padStart(2, "0");
}

/** Change the text only when it changes: most steps fall within the same second. */
function show(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function paint(element, now) {
  const left = Math.floor((Date.parse(element.dateTime) - now) / SECOND);
  if (!(left > 0)) {
    show(element, words.passed);
    element.classList.add("passed");
    return false;
  }
  const days = Math.floor(left / 86400);
  const hours = Math.floor((left % 86400) / 3600);
  const minutes = Math.floor((left % 3600) / 60);
  const seconds = left % 60;
  const unit = days === 1 ? words.day : words.days;
  show(element, `${days} ${unit} ${pad(hours)}:${pad(minutes)}:${pad(seconds)}`);
  return true;
}

const elements = [...document.querySelectorAll("time[data-countdown]")];
for (const element of elements) element.classList.add("live");

// Painted four times a second: browsers may delay timers of pages in the background, and a quarter-second
// step keeps the seconds turning regularly even when a wake-up comes late.
const STEP = SECOND / 4;

function tick() {
  const now = Date.now();
  const running = elements.filter((element) => paint(element, now));
  if (running.length === 0) clearInterval(timer);
}

const timer = setInterval(tick, STEP);
tick();
