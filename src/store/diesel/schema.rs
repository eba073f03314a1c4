// Hand-kept for both backends (portable types only); mirrors migrations/*/.

diesel::table! {
    users (id) {
        id -> Text,
        user_name -> Text,
        user_name_lower -> Text,
        external_id -> Nullable<Text>,
        display_name -> Nullable<Text>,
        display_name_lower -> Nullable<Text>,
        given_name_lower -> Nullable<Text>,
        family_name_lower -> Nullable<Text>,
        title_lower -> Nullable<Text>,
        active -> Bool,
        employee_number_lower -> Nullable<Text>,
        department_lower -> Nullable<Text>,
        cost_center_lower -> Nullable<Text>,
        manager_id -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        data -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
        department_id -> Nullable<Text>,
        department_path -> Nullable<Text>,
    }
}

diesel::table! {
    user_emails (user_id, position) {
        user_id -> Text,
        position -> Integer,
        value_lower -> Nullable<Text>,
        type_lower -> Nullable<Text>,
        is_primary -> Bool,
    }
}

diesel::table! {
    scim_groups (id) {
        id -> Text,
        display_name -> Text,
        display_name_lower -> Text,
        external_id -> Nullable<Text>,
        data -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    group_members (group_id, member_id) {
        group_id -> Text,
        member_id -> Text,
        member_type -> Text,
    }
}

diesel::table! {
    changes (seq) {
        seq -> BigInt,
        resource_type -> Text,
        resource_id -> Text,
        operation -> Text,
        version -> BigInt,
        changed_at -> Timestamp,
        actor -> Text,
        attributes -> Nullable<Text>,
        active -> Nullable<Bool>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Text,
        scopes -> Text,
        user_id -> Nullable<Text>,
        created -> Timestamp,
        last_used -> Nullable<Timestamp>,
        revoked -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sync_targets (id) {
        id -> Text,
        name -> Text,
        base_url -> Text,
        credentials -> Text,
        settings -> Text,
        mapping -> Nullable<Text>,
        scope -> Nullable<Text>,
        change_cursor -> BigInt,
        created -> Timestamp,
        updated -> Timestamp,
        state -> Text,
    }
}

diesel::table! {
    sync_department_members (target_id, member_type, member_id, department_id) {
        target_id -> Text,
        department_id -> Text,
        member_type -> Text,
        member_id -> Text,
    }
}

diesel::table! {
    sync_deprovisions (id) {
        id -> Text,
        target_id -> Text,
        resource_type -> Text,
        local_id -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    sync_links (target_id, resource_type, local_id) {
        target_id -> Text,
        resource_type -> Text,
        local_id -> Text,
        remote_id -> Text,
        state_hash -> Text,
        updated -> Timestamp,
    }
}

diesel::table! {
    sync_runs (id) {
        id -> Text,
        target_id -> Text,
        status -> Text,
        dry_run -> Bool,
        started -> Timestamp,
        finished -> Nullable<Timestamp>,
        counts -> Text,
        pending -> Nullable<Text>,
        summary -> Nullable<Text>,
        progress -> Nullable<Text>,
    }
}

diesel::table! {
    sync_failures (id) {
        id -> Text,
        run_id -> Text,
        resource_type -> Text,
        local_id -> Text,
        action -> Text,
        status -> Nullable<Integer>,
        detail -> Text,
    }
}

diesel::table! {
    departments (id) {
        id -> Text,
        display_name -> Text,
        display_name_lower -> Text,
        code -> Nullable<Text>,
        external_id -> Nullable<Text>,
        parent_id -> Nullable<Text>,
        ordering -> BigInt,
        path -> Text,
        data -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    resources (id) {
        id -> Text,
        resource_type -> Text,
        unique_value -> Nullable<Text>,
        data -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
        search -> Nullable<Text>,
    }
}

diesel::table! {
    user_departments (user_id, department_id) {
        user_id -> Text,
        department_id -> Text,
    }
}

diesel::joinable!(user_emails -> users (user_id));
diesel::joinable!(group_members -> scim_groups (group_id));
diesel::joinable!(user_departments -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    user_emails,
    scim_groups,
    group_members,
    departments,
    user_departments
);

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        at -> Timestamp,
        event -> Text,
        actor -> Text,
        request_id -> Nullable<Text>,
        source -> Nullable<Text>,
        resource_type -> Nullable<Text>,
        resource_id -> Nullable<Text>,
        attributes -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    change_log_state (id) {
        id -> Integer,
        pruned_through -> BigInt,
    }
}

diesel::table! {
    sync_queue (id) {
        id -> Text,
        target_id -> Text,
        resource_type -> Text,
        local_id -> Text,
        operation -> Text,
        payload -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt -> Timestamp,
        last_status -> Nullable<Integer>,
        last_error -> Text,
        created -> Timestamp,
        updated -> Timestamp,
    }
}

diesel::table! {
    sync_leases (name) {
        name -> Text,
        holder -> Text,
        expires -> Timestamp,
    }
}

diesel::table! {
    sync_quarantine (target_id) {
        target_id -> Text,
        reason -> Text,
        since -> Timestamp,
    }
}

diesel::table! {
    sync_queue_alerts (target_id) {
        target_id -> Text,
        depth -> BigInt,
        since -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint -> Text,
        event -> Text,
        body -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        status -> Text,
        created -> Timestamp,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        name -> Text,
        url -> Text,
        secret -> Text,
        resource_types -> Text,
        change_cursor -> BigInt,
        last_error -> Nullable<Text>,
        created -> Timestamp,
        format -> Text,
        delivery -> Text,
        mode -> Text,
    }
}

diesel::table! {
    event_acks (subscription_id, seq) {
        subscription_id -> Text,
        seq -> BigInt,
    }
}

diesel::table! {
    console_sessions (id_hash) {
        id_hash -> Text,
        actor -> Text,
        token_id -> Nullable<Text>,
        created -> Timestamp,
        last_seen -> Timestamp,
    }
}

diesel::table! {
    console_logins (id_hash) {
        id_hash -> Text,
        state -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        next -> Text,
        created -> Timestamp,
    }
}

diesel::table! {
    sources (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        settings -> Text,
        credentials -> Nullable<Text>,
        mapping -> Nullable<Text>,
        watermark -> Nullable<Text>,
        created -> Timestamp,
        updated -> Timestamp,
    }
}

diesel::table! {
    source_links (source_id, resource_type, external_key) {
        source_id -> Text,
        resource_type -> Text,
        external_key -> Text,
        local_id -> Text,
        state_hash -> Text,
        refs -> Nullable<Text>,
        updated -> Timestamp,
    }
}

diesel::table! {
    source_runs (id) {
        id -> Text,
        source_id -> Text,
        status -> Text,
        dry_run -> Bool,
        started -> Timestamp,
        finished -> Nullable<Timestamp>,
        report -> Text,
    }
}

diesel::table! {
    source_failures (source_id, resource_type, record_key) {
        source_id -> Text,
        resource_type -> Text,
        record_key -> Text,
        locator -> Text,
        reason -> Text,
        detail -> Text,
        raw -> Text,
        run_id -> Text,
        first_seen -> Timestamp,
        last_seen -> Timestamp,
    }
}

diesel::table! {
    schema_extensions (id) {
        id -> Text,
        id_lower -> Text,
        resource_type -> Text,
        definition -> Text,
        version -> BigInt,
        created -> Timestamp,
        updated -> Timestamp,
    }
}

diesel::table! {
    schema_generation (id) {
        id -> Integer,
        generation -> BigInt,
    }
}
