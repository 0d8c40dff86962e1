#!/usr/bin/env python3
"""Accessibility of the page templates (issue 14 part 3: "labels on every
field, keyboard reachable"), checked on the template sources themselves.

For each file given (web/templates/*.html):
  - every <input> (but hidden, submit, button, reset, image, or one with
    the `hidden` attribute), <select> and <textarea> has a name a screen
    reader can say: a <label for=ID> naming its id, an enclosing <label>,
    or aria-label / aria-labelledby;
  - every <label for=ID> names a field of the same file (a label whose
    field was renamed labels nothing);
  - no positive tabindex (it takes the element out of the page's order),
    no inline event handler (on...=), no <a> without href that would look
    like a link but cannot be reached by Tab;
And of the style sheet (web/static/style.css, --css): no `outline: none`
or `outline: 0` (the focus ring is how a keyboard user sees where they are).

Template tags ({{...}}) are text to the parser: an id written with one is
compared as written. Prints one line per problem (file:line: what) and
exits 1 when there is any."""
import os
import re
import sys
from html.parser import HTMLParser

EXEMPT_TYPES = {'hidden', 'submit', 'button', 'reset', 'image'}


class Template(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields = []        # (tag, attrs, line, inside a <label>)
        self.ids = set()
        self.label_for = []     # (for, line)
        self.label_depth = 0
        self.problems = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        line = self.getpos()[0]
        if a.get('id'):
            self.ids.add(a['id'])
        if tag == 'label':
            if a.get('for'):
                self.label_for.append((a['for'], line))
            self.label_depth += 1
        if tag in ('input', 'select', 'textarea'):
            kind = (a.get('type') or 'text').lower()
            if not (tag == 'input' and (kind in EXEMPT_TYPES or 'hidden' in a)):
                self.fields.append((tag, a, line, self.label_depth > 0))
        tabindex = a.get('tabindex')
        if tabindex is not None and re.fullmatch(r'\s*[0-9]+\s*', tabindex) and int(tabindex) > 0:
            self.problems.append((line, f'<{tag}> has tabindex={tabindex}: a positive tabindex '
                                        'breaks the keyboard order; use 0 or none'))
        for k in a:
            if k.startswith('on'):
                self.problems.append((line, f'<{tag}> has an inline event handler {k}= '
                                            '(the CSP blocks it; a keyboard user cannot use it)'))
        if tag == 'a' and 'href' not in a and not a.get('id') and not a.get('name'):
            self.problems.append((line, '<a> without href cannot be reached with Tab'))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == 'label' and self.label_depth:
            self.label_depth -= 1


def check_template(path):
    t = Template()
    t.feed(open(path, encoding='utf-8').read())
    t.close()
    out = list(t.problems)
    labelled = {f for f, _ in t.label_for}
    field_ids = set()
    for tag, a, line, inside in t.fields:
        if a.get('id'):
            field_ids.add(a['id'])
        if inside or a.get('aria-label') or a.get('aria-labelledby'):
            continue
        if a.get('id') and a['id'] in labelled:
            continue
        out.append((line, f'<{tag} name="{a.get("name", "")}" id="{a.get("id", "")}"> has no '
                          '<label for=its id>, no enclosing <label> and no aria-label'))
    for f, line in t.label_for:
        if f not in field_ids:
            out.append((line, f'<label for="{f}"> names no field of this template'))
    return out


def check_css(path):
    out = []
    for n, line in enumerate(open(path, encoding='utf-8'), 1):
        if re.search(r'outline\s*:\s*(none|0)\b', line):
            out.append((n, 'outline: none hides where the keyboard focus is'))
    return out


def main(argv):
    bad = 0
    css = False
    for arg in argv:
        if arg == '--css':
            css = True
            continue
        problems = check_css(arg) if css else check_template(arg)
        css = False
        for line, msg in sorted(problems):
            print(f'{os.path.relpath(arg)}:{line}: {msg}')
            bad += 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
