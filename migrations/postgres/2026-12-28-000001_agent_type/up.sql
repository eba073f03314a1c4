-- The Agent schema follows the IETF draft: its classifier is `agentType`, not
-- `type`. Agents stored before keep their value under the new name; `search`
-- is cleared so the server recomputes it at start.
UPDATE resources
SET data = ((data::jsonb - 'type') || jsonb_build_object('agentType', data::jsonb -> 'type'))::text,
    search = NULL
WHERE resource_type = 'Agent'
  AND data::jsonb ? 'type'
  AND NOT (data::jsonb ? 'agentType');
