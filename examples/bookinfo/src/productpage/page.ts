// productpage's HTML, following Istio's productpage.html: details, reviews with full/empty star glyphs in the review's colour.

import type { BackendResult } from './backends.js';
import type { Product } from './products.js';

export interface ProductPageView {
  product: Product;
  /** The signed-in user, or '' */
  user: string;
  details: BackendResult;
  reviews: BackendResult;
}

interface Review {
  reviewer?: string;
  text?: string;
  rating?: { stars?: number; color?: string; error?: string };
}

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const STYLE = `body{font-family:Helvetica,Arial,sans-serif;margin:0;color:#333}
nav{background:#222;color:#eee;padding:10px 20px;display:flex;justify-content:space-between;align-items:center}
nav a{color:#9cf}.container-fluid{padding:0 20px}.row{display:flex;gap:40px;flex-wrap:wrap}.col-md-6{flex:1;min-width:300px}
.text-primary{color:#337ab7}.text-center{text-align:center}blockquote{border-left:5px solid #eee;margin:0 0 20px;padding:10px 20px}
.glyphicon{font-size:1.2em}dt{font-weight:bold}`;

export function renderProductPage(view: ProductPageView): string {
  const { product, user } = view;
  return `<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Simple Bookstore App</title>
<style>${STYLE}</style>
</head>
<body>
<nav class="navbar navbar-inverse navbar-static-top">
  <a class="navbar-brand" href="#">BookInfo Sample</a>
  ${user ? signedIn(user) : signInForm()}
</nav>

<div class="container-fluid">
  <div class="row">
    <div class="col-md-12">
      <h3 class="text-center text-primary">${escapeHtml(product.title)}</h3>
      <p>Summary: ${product.descriptionHtml}</p>
    </div>
  </div>

  <div class="row">
    <div class="col-md-6">
${renderDetails(view.details)}
    </div>

    <div class="col-md-6">
${renderReviews(view.reviews)}
    </div>
  </div>
</div>
</body>
</html>
`;
}

function signedIn(user: string): string {
  return `<p class="navbar-text navbar-right">
    <i class="glyphicon glyphicon-user" aria-hidden="true"></i>
    <span style="padding-left: 5px;">${escapeHtml(user)} ( <a href="logout">sign out</a> )</span>
  </p>`;
}

function signInForm(): string {
  // Istio opens this form in a modal; plain inline fields keep the page free of JavaScript.
  return `<form method="post" action="login" name="login_form" class="navbar-form navbar-right">
    <input type="text" name="username" id="username" placeholder="User Name">
    <input type="password" name="passwd" placeholder="Password">
    <button type="submit" class="btn btn-primary">Sign in</button>
  </form>`;
}

function renderDetails(details: BackendResult): string {
  if (details.status !== 200) {
    return `      <h4 class="text-center text-primary">Error fetching product details!</h4>
      <p>${escapeHtml(details.body.error)}</p>`;
  }
  const d = details.body;
  return `      <h4 class="text-center text-primary">Book Details</h4>
      <dl>
        <dt>Type:</dt>${escapeHtml(d.type)}
        <dt>Pages:</dt>${escapeHtml(d.pages)}
        <dt>Publisher:</dt>${escapeHtml(d.publisher)}
        <dt>Language:</dt>${escapeHtml(d.language)}
        <dt>ISBN-10:</dt>${escapeHtml(d['ISBN-10'])}
        <dt>ISBN-13:</dt>${escapeHtml(d['ISBN-13'])}
      </dl>`;
}

function renderReviews(reviews: BackendResult): string {
  if (reviews.status !== 200) {
    return `      <h4 class="text-center text-primary">Error fetching product reviews!</h4>
      <p>${escapeHtml(reviews.body.error)}</p>`;
  }
  const list = Array.isArray(reviews.body.reviews) ? (reviews.body.reviews as Review[]) : [];
  const servedBy = `Reviews served by: ${escapeHtml(reviews.body.podname)}${
    reviews.body.clustername !== undefined && reviews.body.clustername !== 'null'
      ? ` on cluster ${escapeHtml(reviews.body.clustername)}`
      : ''
  }`;
  return `      <h4 class="text-center text-primary">Book Reviews</h4>
${list
  .map(
    (r) => `      <blockquote>
        <p>${escapeHtml(r.text)}</p>
        <small>${escapeHtml(r.reviewer)}</small>
${renderRating(r.rating)}        <small class="served-by">${servedBy}</small>
      </blockquote>`,
  )
  .join('\n')}`;
}

/** Like the Jinja template: nothing for 0 stars or no rating, the error text when ratings failed. */
export function renderRating(rating: Review['rating']): string {
  if (!rating) return '';
  const stars = Math.max(0, Math.min(5, Math.trunc(Number(rating.stars) || 0)));
  if (stars > 0) {
    const full = '          <span class="glyphicon glyphicon-star">&#9733;</span>\n'.repeat(stars);
    const empty = '          <span class="glyphicon glyphicon-star-empty">&#9734;</span>\n'.repeat(5 - stars);
    return `        <font color="${escapeHtml(rating.color)}">
          <!-- full stars: -->
${full}          <!-- empty stars: -->
${empty}        </font>
`;
  }
  if (rating.error) return `        <p><i>${escapeHtml(rating.error)}</i></p>\n`;
  return '';
}

export function renderIndex(services: { name: string; url: string }[]): string {
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Simple Bookstore App</title><style>${STYLE}</style></head>
<body>
<div class="container-fluid">
  <h3>Hello! This is a simple bookstore application consisting of three services as shown below</h3>
  <table>
    <tr><th>service</th><th>address</th></tr>
${services.map((s) => `    <tr><td>${escapeHtml(s.name)}</td><td>${escapeHtml(s.url)}</td></tr>`).join('\n')}
  </table>
  <p><h4>Click on one of the links below to auto generate a request to the backend as a real user or a tester</h4></p>
  <p><a href="/productpage?u=normal">Normal user</a></p>
  <p><a href="/productpage?u=test">Test user</a></p>
</div>
</body>
</html>
`;
}
