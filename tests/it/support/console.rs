//! A console user without a browser: an HTTP client that keeps the session
//! cookie, follows no redirects (so tests see them) and sends forms with
//! the page's CSRF token.

use reqwest::StatusCode;

pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> Option<String> {
        let at = self.body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
        let rest = &self.body[at..];
        Some(rest[..rest.find('"')?].to_string())
    }
}

pub struct ConsoleClient {
    pub base: String,
    client: reqwest::Client,
    /// `scimhub_console=SECRET`, once signed in.
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

/// The session cookie a response sets: (`name=value`, the whole header).
pub fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<(String, String)> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("scimhub_console="))
        .map(|v| {
            (
                v.split(';').next().unwrap_or_default().to_string(),
                v.to_string(),
            )
        })
}

impl ConsoleClient {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_string(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: None,
            csrf: None,
        }
    }

    async fn read(resp: reqwest::Response) -> Page {
        Page {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        Self::read(req.send().await.unwrap()).await
    }

    /// Posts a form as is (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            body.append_pair(k, v);
        }
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.finish());
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        Self::read(req.send().await.unwrap()).await
    }

    /// Posts a form with the session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone().expect("signed in");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Signs in with `token`; returns the sign-in answer (a 303 when it worked).
    pub async fn sign_in(&mut self, token: &str) -> Page {
        let page = self
            .post_raw(
                "/console/sign-in",
                &[("token", token), ("next", "/console")],
            )
            .await;
        if let Some((cookie, _)) = session_cookie(&page.headers) {
            self.cookie = Some(cookie);
            self.csrf = self.get("/console").await.csrf();
        }
        page
    }

    /// Signs in and asserts it worked.
    pub async fn signed_in(base: &str, token: &str) -> Self {
        let mut c = Self::new(base);
        let page = c.sign_in(token).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert!(c.csrf.is_some(), "the overview has forms with a CSRF token");
        c
    }
}
