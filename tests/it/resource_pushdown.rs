//! The plain resource types' filters and sorts run in SQL where they can
//! (`resources.search`, the columns); their answers — ids, totalResults and
//! order, page by page — equal the reference evaluator's over every stored
//! Agent, on both backends.

use scimhub::scim::agents::AGENT;
use scimhub::scim::filter::{AttrPath, matches, parse_filter};
use scimhub::scim::sort::{Position, SortValue, sort_value};
use scimhub::store::diesel::sql_answers_exactly;
use serde_json::{Value, json};

use crate::support::TestApp;

const AGENT_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Agent";

/// Case, non-ASCII (the Kelvin sign folds to an ASCII `k`), LIKE's
/// wildcards and its escape, and the empty string.
const WORDS: [&str; 10] = [
    "ann",
    "Ann",
    "ANNA",
    "kelvin",
    "\u{212A}elvin",
    "a_b",
    "x%y",
    "Émile",
    "",
    "b\\c",
];

fn word(i: usize, salt: usize) -> Option<&'static str> {
    let w = (i * 7 + salt * 3) % (WORDS.len() + 2);
    WORDS.get(w).copied()
}

async fn seed(app: &TestApp) {
    for i in 0..24 {
        let mut body =
            json!({"schemas": [AGENT_SCHEMA], "name": format!("{}{i}", WORDS[i % WORDS.len()])});
        for (salt, key) in [
            (1, "displayName"),
            (2, "externalId"),
            (3, "agentType"),
            (4, "subject"),
            (5, "description"),
        ] {
            if let Some(w) = word(i, salt) {
                body[key] = json!(w);
            }
        }
        if i % 3 != 0 {
            body["active"] = json!(i % 2 == 0);
        }
        if i % 4 == 0 {
            body["protocols"] = json!([{"type": "A2A"}]);
        }
        let r = app.post("/Agents", &body).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
}

fn ids(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn search(app: &TestApp, body: Value) -> Value {
    let mut body = body;
    body["schemas"] = json!(["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]);
    let r = app.post("/Agents/.search", &body).await;
    assert_eq!(r.status, 200, "{body}: {}", r.text);
    r.body
}

/// What the evaluator says: the matching Agents in sort order.
fn expected(all: &[Value], filter: &str, sort_by: Option<&str>, descending: bool) -> Vec<String> {
    let f = parse_filter(filter, Default::default()).unwrap();
    let path = match sort_by {
        Some(p) => match p.split_once('.') {
            Some((a, b)) => AttrPath::with_sub(a, b),
            None => AttrPath::new(p),
        },
        None => AttrPath::with_sub("meta", "created"),
    };
    let mut found: Vec<Position> = all
        .iter()
        .filter(|r| matches(&f, AGENT, r))
        .map(|r| Position {
            value: sort_value(AGENT, r, &path),
            id: r["id"].as_str().unwrap().to_string(),
        })
        .collect();
    found.sort_by(|a, b| a.cmp_in(b, descending));
    found.into_iter().map(|p| p.id).collect()
}

async fn plain_filters_in_sql_agree_with_the_evaluator(app: TestApp) {
    seed(&app).await;
    let all = search(&app, json!({"count": 1000})).await["Resources"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(all.len(), 24);
    let pushed = [
        r#"name eq "ANN1""#,
        r#"name sw "an""#,
        r#"name co "_""#,
        r#"name ew "%y6""#,
        r#"displayName eq "kelvin""#,
        r#"displayName co "k""#,
        r#"displayName eq """#,
        r#"displayName pr"#,
        r#"displayName eq null"#,
        r#"not (displayName pr) or agentType sw "a""#,
        r#"externalId eq "Ann""#,
        r#"externalId ne "ann""#,
        r#"externalId gt "a" and externalId le "x%y""#,
        r#"agentType sw "É" or subject ew "\\c""#,
        r#"description lt "b" and not (description eq "")"#,
        r#"active eq true"#,
        r#"active ne false"#,
        r#"active pr and not (active eq false)"#,
        r#"active eq false or displayName sw "É""#,
        r#"meta.created ge "2000-01-01T00:00:00Z""#,
        r#"meta.lastModified lt "2000-01-01T00:00:00Z" or name sw "a""#,
        r#"undefinedThing eq "x" or subject pr"#,
    ];
    for text in pushed {
        let f = parse_filter(text, Default::default()).unwrap();
        assert!(sql_answers_exactly(AGENT, &f), "{text} runs in SQL");
    }
    // Not in SQL (multi-valued, a boolean order): the evaluator decides.
    let in_memory = [
        r#"protocols.type eq "A2A""#,
        r#"protocols.type ne "OpenAPI" or name sw "k""#,
        r#"protocols pr and displayName sw "a""#,
    ];
    for text in in_memory {
        let f = parse_filter(text, Default::default()).unwrap();
        assert!(!sql_answers_exactly(AGENT, &f), "{text} is the evaluator's");
    }
    let sorts: [(Option<&str>, bool); 6] = [
        (None, false),
        (Some("name"), false),
        (Some("displayName"), true),
        (Some("externalId"), false),
        (Some("agentType"), true),
        (Some("meta.lastModified"), false),
    ];
    for (i, text) in pushed.iter().chain(in_memory.iter()).enumerate() {
        let (sort_by, descending) = sorts[i % sorts.len()];
        let want = expected(&all, text, sort_by, descending);
        let mut request = json!({"filter": text, "count": 1000});
        if let Some(s) = sort_by {
            request["sortBy"] = json!(s);
            request["sortOrder"] = json!(if descending {
                "descending"
            } else {
                "ascending"
            });
        }
        let whole = search(&app, request.clone()).await;
        assert_eq!(whole["totalResults"], want.len(), "{text}: {whole}");
        assert_eq!(ids(&whole), want, "{text} sorted by {sort_by:?}");
        // Page by page (index paging), the same sequence.
        let mut paged = Vec::new();
        for start in (1..=want.len().max(1)).step_by(3) {
            request["startIndex"] = json!(start);
            request["count"] = json!(3);
            let page = search(&app, request.clone()).await;
            assert_eq!(page["totalResults"], want.len(), "{text} from {start}");
            paged.extend(ids(&page));
        }
        assert_eq!(paged, want, "{text} paged");
    }
    // Cursor paging of a pushed-down filter in the default order.
    let text = r#"displayName pr or active eq true"#;
    let want = expected(&all, text, None, false);
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = search(&app, json!({"filter": text, "count": 4, "cursor": cursor})).await;
        assert_eq!(page["totalResults"], want.len());
        seen.extend(ids(&page));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, want, "cursor pages");
    assert!(matches!(
        sort_value(AGENT, &all[0], &AttrPath::new("name")),
        SortValue::Text(_)
    ));
}

crate::on_both_backends!(plain_filters_in_sql_agree_with_the_evaluator);
