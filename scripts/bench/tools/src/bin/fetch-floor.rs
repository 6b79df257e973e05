//! `fetch-floor [-j N] URLS_FILE`: fetches every URL in URLS_FILE (one a line), N at a time
//! (default 16), each body read to the end and dropped; nothing parsed, nothing kept. The floor
//! for looking pages up: py2nix's own HTTP stack (reqwest with rustls, HTTP/2, gzip), without
//! py2nix. The first request goes alone, so the connection it opens (HTTP/2 where the server
//! speaks it) carries the rest rather than racing them through handshakes of their own.

use futures::stream::{self, StreamExt};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut parallel = 16;
    if args.len() == 3 && args[0] == "-j" {
        parallel = args[1]
            .parse()
            .unwrap_or_else(|_| fail("-j takes a number"));
        args.drain(..2);
    }
    let [file] = args.as_slice() else {
        fail("usage: fetch-floor [-j N] URLS_FILE");
    };
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| fail(&format!("{file}: {e}")));
    let urls: Vec<&str> = text.split_whitespace().collect();
    let client = reqwest::Client::builder()
        .user_agent("py2nix-bench")
        .build()
        .unwrap_or_else(|e| fail(&e.to_string()));
    let Some((first, rest)) = urls.split_first() else {
        return;
    };
    let mut bytes = fetch(&client, first).await;
    let sizes: Vec<usize> = stream::iter(rest)
        .map(|url| fetch(&client, url))
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    bytes += sizes.iter().sum::<usize>();
    println!("{} pages, {bytes} bytes", urls.len());
}

async fn fetch(client: &reqwest::Client, url: &str) -> usize {
    let mut response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "text/html")
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| fail(&format!("{url}: {e}")));
    let mut n = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .unwrap_or_else(|e| fail(&format!("{url}: {e}")))
    {
        n += chunk.len();
    }
    n
}

fn fail(message: &str) -> ! {
    eprintln!("fetch-floor: {message}");
    std::process::exit(1);
}
