//! Users: deactivated ones are missing from `/user/` but answer `/user/<id>/` and appear among the
//! organization's `inactive_memberships`; `/me/` and the memberships carry the key's role.

use close_sim::{Dataset, GenSpec, SimConfig};

use crate::common::{Api, ids_of, spec, str_of};

#[tokio::test]
async fn deactivated_users_are_only_in_the_organization_and_by_id() {
    let api = Api::start(&spec()).await;
    let d = api.sim.snapshot();
    assert_eq!(d.users.len(), 3, "the snapshot keeps every user");
    let gone = d.deactivated_users.first().expect("a deactivated user").clone();
    assert_eq!((d.deactivated_users.len(), str_of(&d.users[2], "id")), (1, gone.as_str()));
    let refers =
        |v: &serde_json::Value| ["user_id", "created_by", "assigned_to"].iter().any(|k| v[*k] == gone.as_str());
    assert!(d.activities.iter().chain(&d.tasks).chain(&d.leads).any(refers), "records keep referring to them");

    let listed = api.get("/user/", &[]).await;
    assert_eq!(ids_of(listed.data()), ids_of(d.active_users()));
    assert!(!listed.ids().contains(&gone));

    let one = api.get(&format!("/user/{gone}/"), &[]).await;
    assert_eq!((one.status.as_u16(), str_of(&one.body, "id")), (200, gone.as_str()));
    assert_eq!(one.body, d.users[2]);
    let fields = api.get(&format!("/user/{gone}/"), &[("_fields", "id,email")]).await;
    assert_eq!(fields.body.as_object().map(|m| m.len()), Some(2));
    let missing = api.get("/user/user_doesnotexist/", &[]).await;
    assert_eq!(missing.status, 404);
    assert!(missing.body["error"].is_string());

    let me = api.get("/me/", &[]).await;
    assert_eq!(me.body["id"], d.users[0]["id"]);
    let org = str_of(&me.body["organizations"][0], "id").to_string();
    assert!(org.starts_with("orga_") && me.body["organizations"][0]["name"].is_string());
    assert_eq!(me.body["memberships"][0]["role_id"], "admin");
    assert_eq!(me.body["memberships"][0]["organization_id"], org.as_str());

    let o = api.get(&format!("/organization/{org}/"), &[]).await;
    assert_eq!((o.status.as_u16(), str_of(&o.body, "id")), (200, org.as_str()));
    let members = o.body["memberships"].as_array().expect("memberships");
    let inactive = o.body["inactive_memberships"].as_array().expect("inactive memberships");
    assert_eq!((members.len(), inactive.len()), (2, 1));
    assert_eq!(inactive[0]["user_id"], gone.as_str());
    assert_eq!(inactive[0]["user_email"], d.users[2]["email"]);
    let full_name = format!("{} {}", str_of(&d.users[2], "first_name"), str_of(&d.users[2], "last_name"));
    assert_eq!(inactive[0]["user_full_name"], full_name.as_str());
    assert!(members.iter().chain(inactive).all(|m| str_of(m, "id").starts_with("memb_") && m["role_id"].is_string()));
    let mine = members.iter().find(|m| m["user_id"] == me.body["id"]).expect("the key's membership");
    assert_eq!(mine["role_id"], "admin");
    assert_eq!(api.get("/organization/orga_doesnotexist/", &[]).await.status, 404);

    assert_eq!((api.sim.requests("organization"), api.sim.requests("user")), (2, 4));
}

#[tokio::test]
async fn a_non_admin_key_has_the_user_role() {
    let config = SimConfig { admin_key: false, ..SimConfig::default() };
    let api = Api::with(Dataset::generate(&spec()), config).await;
    let me = api.get("/me/", &[]).await;
    assert_eq!(me.body["memberships"][0]["role_id"], "user");
    let org = str_of(&me.body["organizations"][0], "id").to_string();
    let o = api.get(&format!("/organization/{org}/"), &[]).await;
    let members = o.body["memberships"].as_array().expect("memberships");
    assert!(members.iter().all(|m| m["role_id"] == "user"));
}

#[test]
fn the_first_user_is_never_deactivated() {
    let none = Dataset::generate(&GenSpec { users: 1, ..spec() });
    assert!(none.deactivated_users.is_empty());
    let most = Dataset::generate(&GenSpec { users: 5, deactivated_users: 10, ..spec() });
    assert_eq!(most.deactivated_users.len(), 4);
    assert!(!most.deactivated_users.iter().any(|id| most.users[0]["id"] == id.as_str()));
    assert_eq!(most.active_users().len(), 1);
}
