// el(tag, props, ...children): an element built without parsing markup. Properties are set
// as properties (textContent, className, type…), aria-*, role and for as attributes;
// children are nodes or strings (strings become text nodes).
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith("aria-") || key === "role" || key === "for") node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children);
  return node;
}
