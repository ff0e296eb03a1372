//! The lab API's OpenAPI 3.1 document, generated from one table of endpoints and the
//! schemas of the very types the handlers exchange, so it cannot drift from the code.
//!
//! Tests walk [`ENDPOINTS`] to prove every documented endpoint answers and that no team
//! can reach another's data; the document is served at `/api/openapi.json`. The
//! instructor's routes ([`CONSOLE_ENDPOINTS`], served by `crate::instructor`) are documented
//! in the same document under the instructor's token.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use super::{
    AccountDraft, Announcement, EvidenceDetail, HintGiven, LegalRequest, MessageDraft, PostDraft, Purchase, PurchaseDraft, RequestDraft,
    SeizedSummary, SeizureDraft, UndercoverAccount, UndercoverMessage, UndercoverView,
};
use crate::case::CaseFile;
use crate::ledger::EvidenceEntry;
use crate::prosecutor::Verdict;

/// Who may call an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone (no token).
    Public,
    /// Any member of a team.
    Member,
    /// Only a team's head of unit.
    Head,
    /// Only a team's investigators (undercover work).
    Investigator,
    /// Only a team's forensic examiners.
    Examiner,
    /// Only the instructor's token; a team member's token is refused.
    Instructor,
}

/// What travels in a request or response body.
#[derive(Clone, Copy)]
pub enum Body {
    /// Nothing.
    Empty,
    /// JSON of a type.
    Json(fn(&mut SchemaGenerator) -> Schema),
    /// Raw bytes (an artifact or a page).
    Bytes,
}

/// One endpoint of the lab API.
#[derive(Clone, Copy)]
pub struct Endpoint {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path with `{param}` placeholders.
    pub path: &'static str,
    /// One line for the document.
    pub summary: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Request body.
    pub request: Body,
    /// Success response body.
    pub response: Body,
    /// Success status.
    pub status: u16,
}

fn schema<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// A URL to fetch through the lab.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct UrlBody {
    /// A URL on the exercise's network (an onion site or the explorer).
    pub url: String,
}

/// The lab's status as any client sees it.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct StatusBody {
    /// The exercise's title.
    pub exercise: String,
    /// Current simulated time.
    pub sim_time: sim_core::clock::SimTime,
    /// Base URL of each site, by site id.
    pub sites: std::collections::BTreeMap<String, String>,
    /// Base URL of the block explorer.
    pub explorer: String,
}

/// Every endpoint of the lab API.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "GET",
        path: "/api/status",
        summary: "Exercise title, simulated time and the network's sites",
        access: Access::Public,
        request: Body::Empty,
        response: Body::Json(schema::<StatusBody>),
        status: 200,
    },
    Endpoint {
        method: "GET",
        path: "/api/openapi.json",
        summary: "This document",
        access: Access::Public,
        request: Body::Empty,
        response: Body::Bytes,
        status: 200,
    },
    Endpoint {
        method: "POST",
        path: "/api/captures",
        summary: "Capture a page of the network into the team's ledger",
        access: Access::Member,
        request: Body::Json(schema::<UrlBody>),
        response: Body::Json(schema::<EvidenceEntry>),
        status: 201,
    },
    Endpoint {
        method: "POST",
        path: "/api/browse",
        summary: "Fetch a page of the network without recording it",
        access: Access::Member,
        request: Body::Json(schema::<UrlBody>),
        response: Body::Bytes,
        status: 200,
    },
    Endpoint {
        method: "GET",
        path: "/api/evidence",
        summary: "The team's evidence entries",
        access: Access::Member,
        request: Body::Empty,
        response: Body::Json(schema::<Vec<EvidenceEntry>>),
        status: 200,
    },
    Endpoint {
        method: "GET",
        path: "/api/evidence/{id}",
        summary: "One piece of evidence, its custody log and integrity",
        access: Access::Member,
        request: Body::Empty,
        response: Body::Json(schema::<EvidenceDetail>),
        status: 200,
    },
    Endpoint {
        method: "GET",
        path: "/api/evidence/{id}/content",
        summary: "The artifact (a Viewed custody event)",
        access: Access::Member,
        request: Body::Empty,
        response: Body::Bytes,
        status: 200,
    },
    Endpoint {
        method: "POST",
        path: "/api/evidence/{id}/export",
        summary: "Export the artifact (an Exported custody event)",
        access: Access::Member,
        request: Body::Empty,
        response: Body::Bytes,
        status: 200,
    },
    Endpoint {
        method: "GET",
        path: "/api/requests",
        summary: "The team's legal requests and their status",
        access: Access::Member,
        request: Body::Empty,
        response: Body::Json(schema::<Vec<LegalRequest>>),
        status: 200,
    },
    Endpoint {
        method: "POST",
        path: "/api/requests",
        summary: "File a legal request citing evidence as grounds",
        access: Access::Head,
        request: Body::Json(schema::<RequestDraft>),
        response: Body::Json(schema::<LegalRequest>),
        status: 201,
    },
    Endpoint {
        method: "GET",
        path: "/api/case",
        summary: "The team's case: the submitted one, else the saved draft",
        access: Access::Member,
        request: Body::Empty,
        response: Body::Json(schema::<Option<CaseFile>>),
        status: 200,
    },
    Endpoint {
        method: "PUT",
        path: "/api/case",
        summary: "Save a draft of the case",
        access: Access::Member,
        request: Body::Json(schema::<CaseFile>),
        response: Body::Empty,
        status: 204,
    },
    Endpoint {
        method: "POST",
        path: "/api/case",
        summary: "Submit the case to the prosecutor (locks it)",
        access: Access::Head,
        request: Body::Json(schema::<CaseFile>),
        response: Body::Json(schema::<Verdict>),
        status: 200,
    },
    Endpoint {
        method: "GET",
        path: "/api/announcements",
        summary: "Injects and instructor messages released so far",
        access: Access::Member,
        request: Body::Empty,
        response: Body::Json(schema::<Vec<Announcement>>),
        status: 200,
    },
    Endpoint {
        method: "GET",
        path: "/api/hints",
        summary: "Hints the team holds, with their cost",
        access: Access::Member,
        request: Body::Empty,
        response: Body::Json(schema::<Vec<HintGiven>>),
        status: 200,
    },
    Endpoint {
        method: "POST",
        path: "/api/hints/{id}",
        summary: "Take one of the scenario's hints (it costs points)",
        access: Access::Member,
        request: Body::Empty,
        response: Body::Json(schema::<HintGiven>),
        status: 201,
    },
    Endpoint {
        method: "GET",
        path: "/api/verdict.html",
        summary: "The verdict as a self-contained, printable HTML page with the team's timeline",
        access: Access::Member,
        request: Body::Empty,
        response: Body::Bytes,
        status: 200,
    },
    Endpoint {
        method: "POST",
        path: "/api/seizures",
        summary: "Execute a granted search warrant: image the located server into the ledger",
        access: Access::Examiner,
        request: Body::Json(schema::<SeizureDraft>),
        response: Body::Json(schema::<EvidenceEntry>),
        status: 201,
    },
    Endpoint {
        method: "GET",
        path: "/api/seized",
        summary: "The team's seized server images and the views they can be examined through",
        access: Access::Examiner,
        request: Body::Empty,
        response: Body::Json(schema::<Vec<SeizedSummary>>),
        status: 200,
    },
    Endpoint {
        method: "GET",
        path: "/api/seized/{id}/{table}",
        summary: "One view of a seized image (users, vendors, listings, orders, messages, operator_logins, server_log), filtered by `column=value` (exact) or `column.contains=text` (substring, ignoring case), paged by `limit` and `offset`",
        access: Access::Examiner,
        request: Body::Empty,
        response: Body::Json(schema::<serde_json::Value>),
        status: 200,
    },
    Endpoint {
        method: "GET",
        path: "/api/verdict",
        summary: "The prosecutor's verdict once the case is submitted",
        access: Access::Member,
        request: Body::Empty,
        response: Body::Json(schema::<Verdict>),
        status: 200,
    },
    Endpoint {
        method: "GET",
        path: "/api/undercover",
        summary: "The team's undercover accounts, messages, controlled purchases and evidence wallet",
        access: Access::Member,
        request: Body::Empty,
        response: Body::Json(schema::<UndercoverView>),
        status: 200,
    },
    Endpoint {
        method: "POST",
        path: "/api/undercover/accounts",
        summary: "Open a team-controlled account on a market or forum (needs a granted undercover authorisation for the site)",
        access: Access::Investigator,
        request: Body::Json(schema::<AccountDraft>),
        response: Body::Json(schema::<UndercoverAccount>),
        status: 201,
    },
    Endpoint {
        method: "POST",
        path: "/api/undercover/accounts/{id}/messages",
        summary: "Send a private message from an undercover market account",
        access: Access::Investigator,
        request: Body::Json(schema::<MessageDraft>),
        response: Body::Json(schema::<UndercoverMessage>),
        status: 201,
    },
    Endpoint {
        method: "POST",
        path: "/api/undercover/accounts/{id}/inbox",
        summary: "Read an undercover account's inbox: each new message enters the ledger",
        access: Access::Investigator,
        request: Body::Empty,
        response: Body::Json(schema::<Vec<UndercoverMessage>>),
        status: 200,
    },
    Endpoint {
        method: "POST",
        path: "/api/undercover/accounts/{id}/posts",
        summary: "Start a public forum thread from an undercover forum account",
        access: Access::Investigator,
        request: Body::Json(schema::<PostDraft>),
        response: Body::Json(schema::<serde_json::Value>),
        status: 201,
    },
    Endpoint {
        method: "POST",
        path: "/api/undercover/accounts/{id}/purchases",
        summary: "A controlled purchase paid from the team's evidence wallet: the order page and the payment enter the ledger",
        access: Access::Investigator,
        request: Body::Json(schema::<PurchaseDraft>),
        response: Body::Json(schema::<Purchase>),
        status: 201,
    },
    Endpoint {
        method: "POST",
        path: "/api/undercover/purchases/{id}/order",
        summary: "Look at a controlled purchase's order page again (shipped: the courier's tracking number); it enters the ledger",
        access: Access::Investigator,
        request: Body::Empty,
        response: Body::Json(schema::<EvidenceEntry>),
        status: 201,
    },
];

/// The instructor's console routes (`crate::instructor`) that the workstation's console reads.
pub const CONSOLE_ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "GET",
        path: "/instructor/status",
        summary: "The classroom's clock and every team's progress",
        access: Access::Instructor,
        request: Body::Empty,
        response: Body::Json(schema::<crate::instructor::ConsoleStatus>),
        status: 200,
    },
    Endpoint {
        method: "GET",
        path: "/instructor/teams/{team}/timeline",
        summary: "A team's investigation, step by step, for the debrief's replay",
        access: Access::Instructor,
        request: Body::Empty,
        response: Body::Json(schema::<Vec<super::TimelineEvent>>),
        status: 200,
    },
    Endpoint {
        method: "GET",
        path: "/instructor/scoreboard",
        summary: "The teams ranked by score, then earlier submission, fewer hints and name (scores included)",
        access: Access::Instructor,
        request: Body::Empty,
        response: Body::Json(schema::<Vec<crate::challenge::board::Standing>>),
        status: 200,
    },
    Endpoint {
        method: "GET",
        path: "/instructor/network",
        summary: "The network map: relays with flags and bandwidth from the live consensus (tor mode) and the onion services with their .onion names",
        access: Access::Instructor,
        request: Body::Empty,
        response: Body::Json(schema::<crate::net::consensus::NetworkMap>),
        status: 200,
    },
    Endpoint {
        method: "GET",
        path: "/instructor/truth",
        summary: "What really happened, for the debrief: the chronicle, who is who (personas → identities), the slips planted and what carries them, tip-offs, the scenario's debrief text. Ground truth: never a team's",
        access: Access::Instructor,
        request: Body::Empty,
        response: Body::Json(schema::<super::Truth>),
        status: 200,
    },
];

fn body_json(body: Body, g: &mut SchemaGenerator) -> Option<Value> {
    match body {
        Body::Empty => None,
        Body::Json(f) => Some(json!({"application/json": {"schema": f(g)}})),
        Body::Bytes => Some(json!({"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}})),
    }
}

/// The OpenAPI 3.1 document of the lab API.
pub fn document() -> Value {
    let mut g = SchemaSettings::openapi3().into_generator();
    let mut paths: Map<String, Value> = Map::new();
    for e in ENDPOINTS.iter().chain(CONSOLE_ENDPOINTS) {
        let mut op = Map::new();
        op.insert("summary".into(), json!(e.summary));
        let params: Vec<Value> = e
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if let Some(content) = body_json(e.request, &mut g) {
            op.insert("requestBody".into(), json!({"required": true, "content": content}));
        }
        let mut ok = json!({"description": "success"});
        if let (Some(content), Some(map)) = (body_json(e.response, &mut g), ok.as_object_mut()) {
            map.insert("content".into(), content);
        }
        let mut responses = Map::new();
        responses.insert(e.status.to_string(), ok);
        responses.insert(
            "400".into(),
            json!({"description": "bad input", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
        if e.access == Access::Instructor {
            op.insert("security".into(), json!([{"instructor": []}]));
            responses.insert("401".into(), json!({"description": "no or unknown token"}));
            responses.insert("403".into(), json!({"description": "a team member's token: the instructor's views are never a team's"}));
        } else if e.access != Access::Public {
            op.insert("security".into(), json!([{"member": []}]));
            responses.insert("401".into(), json!({"description": "no or unknown member token"}));
            responses.insert("404".into(), json!({"description": "not found in this team's records"}));
        }
        if e.access == Access::Head {
            responses.insert("403".into(), json!({"description": "only the head of unit may do this"}));
        }
        if e.access == Access::Investigator {
            responses.insert(
                "403".into(),
                json!({"description": "only an investigator may act undercover, and only under a granted undercover authorisation for the site"}),
            );
            responses.insert("409".into(), json!({"description": "the site refused, or the evidence wallet could not pay"}));
        }
        if e.access == Access::Examiner {
            responses.insert("403".into(), json!({"description": "only a forensic examiner may do this"}));
        }
        op.insert("responses".into(), Value::Object(responses));
        let entry = paths.entry(e.path.to_string()).or_insert_with(|| json!({}));
        if let Some(map) = entry.as_object_mut() {
            map.insert(e.method.to_ascii_lowercase(), Value::Object(op));
        }
    }
    let mut schemas: Map<String, Value> = g.take_definitions(true).into_iter().collect();
    schemas.insert("Error".into(), json!({"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}));
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "DarkLab lab API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The trainees' side of an exercise: captures into the evidence ledger, legal requests, the case and the verdict. Every call except status and this document needs `Authorization: Bearer <member token>`; a token only ever reaches its own team's records."
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"member": {"type": "http", "scheme": "bearer"}, "instructor": {"type": "http", "scheme": "bearer"}}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route the lab's router serves is in the table, so in the document and in the
    /// isolation test that walks the document: an undocumented route would escape both.
    #[test]
    fn every_route_the_router_serves_is_documented() {
        let mut routes = 0;
        for line in include_str!("http.rs").lines().map(str::trim).filter(|l| l.starts_with(".route(\"")) {
            let (path, rest) = line.trim_start_matches(".route(\"").split_once('"').expect("a quoted path");
            let methods: Vec<&str> = rest.split(['.', ',', ' ']).filter_map(|seg| seg.split_once('(')).map(|(name, _)| name).collect();
            assert!(!methods.is_empty(), "no method in {line}");
            for m in methods {
                let m = m.to_ascii_uppercase();
                assert!(ENDPOINTS.iter().any(|e| e.method == m && e.path == path), "{m} {path} is served but not documented");
                routes += 1;
            }
        }
        assert_eq!(routes, ENDPOINTS.len(), "every documented endpoint is served, and nothing else");
    }

    #[test]
    fn document_lists_every_endpoint_with_resolvable_schemas() {
        let doc = document();
        for e in ENDPOINTS.iter().chain(CONSOLE_ENDPOINTS) {
            assert!(doc["paths"][e.path][e.method.to_ascii_lowercase()].is_object(), "{} {}", e.method, e.path);
        }
        let truth = &doc["paths"]["/instructor/truth"]["get"];
        assert_eq!(truth["security"], json!([{"instructor": []}]));
        assert!(truth["responses"]["403"].is_object());
        assert!(CONSOLE_ENDPOINTS.iter().all(|e| e.access == Access::Instructor));
        assert!(ENDPOINTS.iter().all(|e| e.access != Access::Instructor), "team routes are walked by the isolation tests");
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in ["EvidenceEntry", "LegalRequest", "CaseFile", "Verdict", "RequestDraft", "EvidenceDetail", "Truth", "NetworkMap"] {
            assert!(schemas.contains_key(name), "schema {name} missing");
        }
        for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = r.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "dangling $ref to {name}");
        }
    }
}
