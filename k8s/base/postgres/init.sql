-- One database per service (each service owns its tables; DESIGN: no shared tables).
CREATE DATABASE auth;
CREATE DATABASE router;
CREATE DATABASE billing;
CREATE DATABASE activity;
