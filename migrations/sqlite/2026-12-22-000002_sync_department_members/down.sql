DROP TABLE sync_department_members;
