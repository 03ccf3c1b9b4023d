// The JavaScript modules' strings: Django's catalog for the page's language, loaded by a
// <script> before the modules (libdesk.i18n.javascript_catalog; no inline script). Mark
// every string a person reads with gettext()/ngettext(), placeholders by name:
//   format(gettext("%(name)s is typing…"), { name })
// so that translators can move them. Without a catalog, the English strings show.
const catalog = globalThis.django || {};

export const gettext = catalog.gettext || ((text) => text);
export const ngettext = catalog.ngettext || ((singular, plural, count) => (count === 1 ? singular : plural));
export const pgettext = catalog.pgettext || ((context, text) => text);

// Named placeholders: "%(name)s" becomes params.name (as text, never markup).
export function format(template, params) {
  return template.replace(/%\((\w+)\)s/g, (whole, key) => (key in params ? String(params[key]) : whole));
}

// The page's language (<html lang>), for dates and numbers.
export const pageLanguage = document.documentElement.lang || "en";

export function formatNumber(value) {
  return new Intl.NumberFormat(pageLanguage).format(value);
}
