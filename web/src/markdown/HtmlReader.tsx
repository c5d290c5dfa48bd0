// An HTML course file shown as a reading view: parsed into an inert document (never attached: nothing in it
// runs or loads), then rebuilt as React elements from an allow-list of text tags. Scripts, styles, frames,
// forms, media, event attributes and unsafe links are simply not carried over.
import { Fragment, createElement, type ReactNode } from "react";
import { slug } from "./Markdown";

const KEPT = new Set([
  "h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote",
  "table", "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd", "br", "hr", "sub", "sup",
]);
const RENAMED: Record<string, string> = { b: "strong", i: "em" };
const DROPPED = new Set([
  "script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math", "form", "input",
  "button", "select", "textarea", "video", "audio", "canvas", "link", "meta", "head", "title",
]);
const SAFE_LINK = /^(https?:|mailto:)/i;

// Trusted Types: the portal's CSP allows this one policy, used only to parse into an inert document.
type Policy = { createHTML(input: string): string };
const trusted = (globalThis as { trustedTypes?: { createPolicy(name: string, rules: Policy): Policy } }).trustedTypes;
let policy: Policy | null = null;

function parse(html: string): Document {
  policy ??= trusted ? trusted.createPolicy("lmw-inert-html", { createHTML: (input) => input }) : { createHTML: (i) => i };
  return new DOMParser().parseFromString(policy.createHTML(html) as string, "text/html");
}

function convert(node: Node, key: string, headingIdPrefix: string): ReactNode {
  if (node.nodeType === Node.TEXT_NODE) return node.textContent;
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  const element = node as Element;
  const name = element.tagName.toLowerCase();
  if (DROPPED.has(name)) return null;
  const children = Array.from(element.childNodes, (child, i) => convert(child, `${key}.${i}`, headingIdPrefix));
  if (name === "a") {
    const href = element.getAttribute("href") ?? "";
    if (!SAFE_LINK.test(href.trim())) return <Fragment key={key}>{children}</Fragment>;
    return (
      <a key={key} href={href.trim()} target="_blank" rel="noopener noreferrer nofollow">
        {children}
      </a>
    );
  }
  const tag = RENAMED[name] ?? name;
  if (!KEPT.has(tag)) return <Fragment key={key}>{children}</Fragment>;
  const props: Record<string, string> = { key };
  if (/^h[1-6]$/.test(tag)) props.id = headingIdPrefix + slug(element.textContent ?? "");
  return tag === "br" || tag === "hr" ? createElement(tag, props) : createElement(tag, props, ...children);
}

export function HtmlReader({ html, headingIdPrefix }: { html: string; headingIdPrefix: string }) {
  const body = parse(html).body;
  return <>{Array.from(body.childNodes, (child, i) => convert(child, `n${i}`, headingIdPrefix))}</>;
}
