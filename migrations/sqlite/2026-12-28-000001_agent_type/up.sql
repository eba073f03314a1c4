-- The Agent schema follows the IETF draft: its classifier is `agentType`, not
-- `type`. Agents stored before keep their value under the new name; `search`
-- is cleared so the server recomputes it at start.
UPDATE resources
SET data = json_remove(json_set(data, '$.agentType', json_extract(data, '$.type')), '$.type'),
    search = NULL
WHERE resource_type = 'Agent'
  AND json_type(data, '$.type') IS NOT NULL
  AND json_type(data, '$.agentType') IS NULL;
