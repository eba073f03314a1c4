DROP TABLE api_tokens;
DROP TABLE changes;
DROP TABLE group_members;
DROP TABLE scim_groups;
DROP TABLE user_emails;
DROP TABLE users;
