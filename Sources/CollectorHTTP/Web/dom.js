// Builds elements from data without ever parsing it as HTML: call ids, names and numbers come from
// outside, so they only ever become text.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'class') node.className = value;
    // Styles are set through the DOM: the page's Content-Security-Policy refuses style attributes.
    else if (name === 'style') Object.assign(node.style, value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/// m:ss (h:mm:ss past an hour) of a time in ms.
export function clock(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/// A UTC timestamp as the reader's local date and time.
export function localTime(text) {
  if (!text) return '–';
  const date = new Date(text);
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}
