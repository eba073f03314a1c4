DROP TABLE user_departments;
DROP INDEX users_department_path;
DROP INDEX users_department_id;
ALTER TABLE users DROP COLUMN department_path;
ALTER TABLE users DROP COLUMN department_id;
DROP TABLE departments;
