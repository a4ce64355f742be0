//! A small web site on 127.0.0.1 for the scan tests: pages with nested markup, relative
//! addresses, srcset, pictures and inline backgrounds, the images they show (the fixtures),
//! and the pages a scan must refuse (too large, not HTML, missing, redirecting to a private
//! address).
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::files::fixture;

/// Where the site listens.
#[derive(Clone)]
pub struct Site {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub port: u16,
}

impl Site {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Bytes of `/big.html`: over a cap of 64 KiB.
pub const BIG_PAGE_BYTES: usize = 100 * 1024;

pub async fn serve_site() -> Site {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let site = Site {
        base: format!("http://127.0.0.1:{port}"),
        port,
    };
    let redirect = |to: String| (StatusCode::FOUND, [(header::LOCATION, to)]);
    let router = Router::new()
        .route("/shop/boots/index.html", get(boots))
        .route("/shop/based.html", get(|| async { html(BASED) }))
        .route("/shop/latin1.html", get(latin1))
        .route("/shop/fr.html", get(|| async { html(FRENCH) }))
        .route("/many.html", get(many))
        .route("/img/{name}", get(image))
        .route(
            "/go/boots",
            get(move || async move { redirect("/shop/boots/index.html".into()) }),
        )
        .route(
            "/go/localhost",
            get(move || async move {
                redirect(format!("http://localhost:{port}/shop/boots/index.html"))
            }),
        )
        .route(
            "/go/metadata",
            get(move || async move { redirect("http://169.254.169.254/latest/meta-data/".into()) }),
        )
        .route(
            "/big.html",
            get(|| async { html(&format!("<p>{}</p>", "x".repeat(BIG_PAGE_BYTES))) }),
        )
        .route(
            "/feed.json",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"images\": []}",
                )
            }),
        )
        .with_state(site.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    site
}

fn html(body: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

async fn image(Path(name): Path<String>) -> Response {
    ([(header::CONTENT_TYPE, "image/*")], fixture(&name)).into_response()
}

/// A shop's page, its markup nested as a theme nests it. Served at /shop/boots/index.html, so
/// that `../../img/x` is `/img/x`. The images that need alt text: the alpine boot (a link, no
/// alt), the file-name alt, the search button (no alt) and the map (a background that is
/// `role="img"` without a label).
async fn boots(State(site): State<Site>) -> Response {
    let port = site.port;
    html(&format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Winter boots</title></head>
<body>
<header>
  <a href="/"><img src="/img/sample.png" alt="Trailhead Outfitters"></a>
  <div class="ornament" aria-hidden="true"><span><img src="../../img/sample.jpg?divider" alt="Divider swirl"></span></div>
</header>
<main>
  <h1>Winter boots</h1>
  <div class="grid"><div class="card"><div class="card-body">
    <figure>
      <a href="alpine.html">
        <picture>
          <source type="image/webp" srcset="/img/sample.webp 1x, /img/sample.webp?2x 2x">
          <img src="//127.0.0.1:{port}/img/sample.jpg?alpine" srcset="/img/sample.jpg?w=400 400w, /img/sample.jpg?w=800 800w">
        </picture>
        Alpine boot
      </a>
      <figcaption>Our warmest boot</figcaption>
    </figure>
  </div></div></div>
  <img srcset="../../img/sample.png?x1 1x, ../../img/sample.png?x2 2x" alt="IMG_2043.jpg">
  <button type="button"><img src="icons/cart.png" alt=""> Add to cart</button>
  <button type="button" aria-label="Search"><img src="../../img/sample.png?search"></button>
  <img src="/img/tiny-1x1.png" role="presentation">
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="">
  <section style="color: #222; background-image: url('/img/sample.jpg?hero')"><h2>Sale</h2></section>
  <div role="img" style="background: url(../../img/sample.png?map) no-repeat"></div>
  <img src="/img/sample.jpg?good" alt="Hiker lacing a leather boot on a rocky trail">
</main>
</body></html>"#
    ))
}

/// A French page (by its `<html lang>`) with alt text in English, in French and none.
const FRENCH: &str = r#"<!doctype html><html lang="fr-FR"><body>
<img src="/img/sample.jpg?fr-en" alt="A red bicycle leaning against an old brick wall in the sun">
<img src="/img/sample.jpg?fr-fr" alt="Un vélo rouge appuyé contre un vieux mur de briques au soleil">
<img src="/img/sample.png?fr-missing">
</body></html>"#;

/// A page whose `<base href>` moves every relative address, links included.
const BASED: &str = r#"<html><head><base href="/img/"></head><body>
<a href="../shop/boots/index.html"><img src="sample.jpg" alt="Boots"></a>
<div style="background-image:url(sample.png)"></div></body></html>"#;

/// The same alt text in Latin-1, as an old CMS serves it.
async fn latin1() -> Response {
    let body: Vec<u8> =
        b"<html><body><img src=\"/img/sample.jpg\" alt=\"Caf\xe9 terrace\"></body></html>".to_vec();
    (
        [(header::CONTENT_TYPE, "text/html; charset=ISO-8859-1")],
        body,
    )
        .into_response()
}

#[derive(Deserialize)]
struct Many {
    n: usize,
    #[serde(default)]
    same: bool,
}

/// `n` images without alt text, each at its own address, or all at one with `same=true`.
async fn many(Query(Many { n, same }): Query<Many>) -> Response {
    let images: String = (0..n)
        .map(|i| match same {
            true => "<img src=\"/img/tiny-1x1.png\">\n".to_string(),
            false => format!("<img src=\"/img/tiny-1x1.png?n={i}\">\n"),
        })
        .collect();
    html(&format!("<html><body>{images}</body></html>"))
}
