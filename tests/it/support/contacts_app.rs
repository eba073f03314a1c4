//! A small contacts API of the kind IM tools offer (users and departments
//! with their own ids, answers that are HTTP 200 with an `errcode`, a
//! request rate limit), written for the REST connector's tests. It runs on
//! a loopback port on its own thread; its state can be read and changed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

pub const TOKEN: &str = "contacts-token";

#[derive(Debug, Default)]
pub struct State {
    pub users: BTreeMap<String, Value>,
    pub departments: BTreeMap<i64, Value>,
    next_user: u64,
    next_department: i64,
    /// Requests allowed per second; 0: no limit.
    pub per_second: usize,
    window: Option<(Instant, usize)>,
    /// Requests turned away by the rate limit.
    pub throttled: usize,
}

pub struct ContactsApp {
    pub url: String,
    pub state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for ContactsApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(false)));
    }
}

fn err(code: i64, msg: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({"errcode": code, "errmsg": msg}))
}

fn ok(mut body: Value) -> HttpResponse {
    body["errcode"] = json!(0);
    body["errmsg"] = json!("ok");
    HttpResponse::Ok().json(body)
}

fn query(req: &HttpRequest, key: &str) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Auth and rate limit, as the real APIs do it: HTTP 200 and an error code.
fn admit(req: &HttpRequest, state: &mut State) -> Option<HttpResponse> {
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if bearer != Some(&format!("Bearer {TOKEN}")) {
        return Some(err(40014, "invalid access_token"));
    }
    if state.per_second > 0 {
        let now = Instant::now();
        let (start, count) = state.window.get_or_insert((now, 0));
        if now.duration_since(*start) >= Duration::from_secs(1) {
            *start = now;
            *count = 0;
        }
        *count += 1;
        if *count > state.per_second {
            state.throttled += 1;
            return Some(err(45009, "api freq out of limit"));
        }
    }
    None
}

async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<State>>>,
) -> HttpResponse {
    let mut s = state.lock().unwrap();
    if let Some(refused) = admit(&req, &mut s) {
        return refused;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = req.path().trim_start_matches("/cgi-bin/");
    match path {
        "user/create" => {
            let Some(email) = body["email"].as_str() else {
                return err(40035, "email required");
            };
            if s.users.values().any(|u| u["email"] == email) {
                return err(60104, "email existed");
            }
            let id = match body["userid"].as_str() {
                Some(id) => id.to_string(),
                None => {
                    s.next_user += 1;
                    format!("u{}", s.next_user)
                }
            };
            if s.users.contains_key(&id) {
                return err(60102, "userid existed");
            }
            let mut user = body.clone();
            user["userid"] = json!(id);
            if user.get("enable").is_none() {
                user["enable"] = json!(1);
            }
            s.users.insert(id.clone(), user);
            ok(json!({"userid": id}))
        }
        "user/get" => match query(&req, "userid").and_then(|id| s.users.get(&id).cloned()) {
            Some(user) => ok(json!({"user": user})),
            None => err(60111, "userid not found"),
        },
        "user/update" => {
            let id = body["userid"].as_str().unwrap_or_default().to_string();
            let Some(user) = s.users.get_mut(&id) else {
                return err(60111, "userid not found");
            };
            for (k, v) in body.as_object().into_iter().flatten() {
                user[k] = v.clone();
            }
            ok(json!({}))
        }
        "user/delete" => {
            let id = query(&req, "userid").unwrap_or_default();
            if s.users.remove(&id).is_none() {
                return err(60111, "userid not found");
            }
            for d in s.departments.values_mut() {
                if let Some(ids) = d["userids"].as_array_mut() {
                    ids.retain(|u| u != &json!(id));
                }
            }
            ok(json!({}))
        }
        "user/list" => ok(json!({"userlist": s.users.values().collect::<Vec<_>>()})),
        "user/find" => {
            let email = query(&req, "email").unwrap_or_default().to_lowercase();
            let found: Vec<&Value> = s
                .users
                .values()
                .filter(|u| u["email"].as_str().map(str::to_lowercase) == Some(email.clone()))
                .collect();
            ok(json!({"userlist": found}))
        }
        "department/create" => {
            s.next_department += 1;
            let id = s.next_department;
            let name = body["name"].clone();
            s.departments
                .insert(id, json!({"id": id, "name": name, "userids": []}));
            ok(json!({"id": id}))
        }
        "department/get" => {
            let id = query(&req, "id").and_then(|i| i.parse::<i64>().ok());
            match id.and_then(|id| s.departments.get(&id).cloned()) {
                Some(d) => ok(json!({"department": d})),
                None => err(60123, "department not found"),
            }
        }
        "department/update" => {
            let id = body["id"]
                .as_i64()
                .or_else(|| body["id"].as_str()?.parse().ok());
            match id.and_then(|id| s.departments.get_mut(&id)) {
                Some(d) => {
                    d["name"] = body["name"].clone();
                    ok(json!({}))
                }
                None => err(60123, "department not found"),
            }
        }
        "department/delete" => {
            let id = query(&req, "id").and_then(|i| i.parse::<i64>().ok());
            match id.and_then(|id| s.departments.remove(&id)) {
                Some(_) => ok(json!({})),
                None => err(60123, "department not found"),
            }
        }
        "department/list" => ok(json!({"department": s.departments.values().collect::<Vec<_>>()})),
        "department/add_member" | "department/remove_member" => {
            let id = body["id"]
                .as_i64()
                .or_else(|| body["id"].as_str()?.parse().ok());
            let user = body["userid"].clone();
            if !s.users.contains_key(user.as_str().unwrap_or_default()) {
                return err(60111, "userid not found");
            }
            let Some(d) = id.and_then(|id| s.departments.get_mut(&id)) else {
                return err(60123, "department not found");
            };
            let ids = d["userids"].as_array_mut().unwrap();
            ids.retain(|u| u != &user);
            if path == "department/add_member" {
                ids.push(user);
            }
            ok(json!({}))
        }
        _ => HttpResponse::NotFound().finish(),
    }
}

impl ContactsApp {
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(web::Data::new(shared.clone()))
                        .default_service(web::to(handle))
                })
                .workers(1)
                .bind(("127.0.0.1", 0))
                .unwrap();
                let port = server.addrs()[0].port();
                let server = server.run();
                tx.send((port, server.handle())).unwrap();
                server.await.unwrap();
            });
        });
        let (port, handle) = rx.recv().unwrap();
        Self {
            url: format!("http://127.0.0.1:{port}"),
            state,
            handle,
        }
    }

    /// The settings a REST target of this API takes (`rest` section).
    pub fn settings() -> Value {
        let request = |method: &str, path: &str| json!({"method": method, "path": path});
        let with_body = |method: &str, path: &str, body: Value| json!({"method": method, "path": path, "body": body});
        json!({
            "users": {
                "create": request("POST", "/cgi-bin/user/create"),
                "get": request("GET", "/cgi-bin/user/get?userid={id}"),
                "update": with_body("POST", "/cgi-bin/user/update", json!({"userid": "{id}", "{object}": true})),
                "delete": request("POST", "/cgi-bin/user/delete?userid={id}"),
                "list": request("GET", "/cgi-bin/user/list"),
                "find": request("GET", "/cgi-bin/user/find?email={value}"),
                "deactivate": with_body("POST", "/cgi-bin/user/update", json!({"userid": "{id}", "enable": 0})),
                "id_pointer": "/userid",
                "object_pointer": "/user",
                "items_pointer": "/userlist",
                "manager_field": "manager"
            },
            "groups": {
                "create": request("POST", "/cgi-bin/department/create"),
                "get": request("GET", "/cgi-bin/department/get?id={id}"),
                "update": with_body("POST", "/cgi-bin/department/update", json!({"id": "{id}", "{object}": true})),
                "delete": request("POST", "/cgi-bin/department/delete?id={id}"),
                "list": request("GET", "/cgi-bin/department/list"),
                "add_member": with_body("POST", "/cgi-bin/department/add_member", json!({"id": "{id}", "userid": "{member}"})),
                "remove_member": with_body("POST", "/cgi-bin/department/remove_member", json!({"id": "{id}", "userid": "{member}"})),
                "id_pointer": "/id",
                "object_pointer": "/department",
                "items_pointer": "/department",
                "members_pointer": "/userids"
            },
            "errors": {
                "code_pointer": "/errcode",
                "message_pointer": "/errmsg",
                "codes": {"60111": 404, "60123": 404, "60102": 409, "60104": 409, "40014": 401, "45009": 429}
            }
        })
    }
}
