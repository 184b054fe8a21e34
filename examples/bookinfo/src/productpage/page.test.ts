// Tests of the product page HTML: stars, errors, escaping.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderProductPage, renderRating } from './page.js';
import { getProduct } from './products.js';

const count = (html: string, needle: string) => html.split(needle).length - 1;

test('a rating renders n full and 5-n empty stars in the rating colour', () => {
  const html = renderRating({ stars: 3, color: 'red' });
  assert.equal(count(html, 'class="glyphicon glyphicon-star"'), 3);
  assert.equal(count(html, 'class="glyphicon glyphicon-star-empty"'), 2);
  assert.match(html, /<font color="red">/);
});

test('no rating and 0 stars render nothing; a ratings error renders the message', () => {
  assert.equal(renderRating(undefined), '');
  assert.equal(renderRating({ stars: 0, color: 'black' }), '');
  assert.match(
    renderRating({ error: 'Ratings service is currently unavailable' }),
    /<i>Ratings service is currently unavailable<\/i>/,
  );
});

test('the page escapes what it did not write: user names and review texts', () => {
  const html = renderProductPage({
    product: getProduct(0)!,
    user: '<script>x</script>',
    details: {
      status: 500,
      body: { error: 'Sorry, product details are currently unavailable for this book.' },
    },
    reviews: { status: 200, body: { podname: 'r"1', reviews: [{ reviewer: 'R', text: '<b>bold</b>' }] } },
  });
  assert.ok(!html.includes('<script>x</script>'));
  assert.match(html, /&lt;script&gt;x&lt;\/script&gt; \( <a href="logout">sign out<\/a> \)/);
  assert.match(html, /&lt;b&gt;bold&lt;\/b&gt;/);
  assert.match(html, /Error fetching product details!/);
  assert.match(html, /Reviews served by: r&quot;1/);
});
