-- lifecircle 001: the five layers, the streets, their versions and the change log.
--
-- Applied by `lifecircle store init` inside the store's schema (search_path set to it, then
-- public, where the postgis extension lives). One table per layer, one typed column per
-- field of geo/schema.py (tests/test_store_postgis.py checks that they agree); a value its
-- column cannot hold (a decade such as "1980s" for `built`, a property outside the schema)
-- is kept in `extra_properties`, so nothing written is lost.

CREATE TABLE layer_versions (
    layer text PRIMARY KEY,
    -- +1 on every write: the cheap change stamp every reader compares (LayerStore.stamp)
    revision bigint NOT NULL DEFAULT 0,
    -- the layer's ETag: sha256 over its features' ids and versions, in order (32 hex)
    version text NOT NULL DEFAULT 'e3b0c44298fc1c149afbf4c8996fb924',
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO layer_versions (layer) VALUES
    ('residential_areas'),
    ('neighbor_centers'),
    ('clinics'),
    ('charging_points'),
    ('renovation_projects'),
    ('streets');

-- Who changed which feature, when, and to what: one row per feature inserted, updated or
-- deleted by a write (a planner's audit trail). `feature` is the feature after the change
-- (GeoJSON), null for a delete.
CREATE TABLE change_log (
    change_id bigserial PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL DEFAULT session_user,
    application text NOT NULL DEFAULT current_setting('application_name'),
    client_addr inet DEFAULT inet_client_addr(),
    layer text NOT NULL,
    revision bigint NOT NULL,
    feature_id text NOT NULL,
    action text NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
    old_version text,
    new_version text,
    feature jsonb
);
CREATE INDEX change_log_feature ON change_log (layer, feature_id, change_id);

-- 小区 / residential areas
CREATE TABLE residential_areas (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    name text,
    subdistrict text,
    district text,
    households bigint,
    population bigint,
    elderly bigint,
    built integer,
    tenure text,
    entrances jsonb,
    address text,
    buildings bigint,
    storeys bigint,
    has_lift boolean,
    floor_area_m2 double precision,
    note text,
    extra_properties json,
    geom geometry(Geometry, 4326),
    feature_order bigint NOT NULL,
    feature_version text NOT NULL
);
CREATE INDEX residential_areas_geom ON residential_areas USING gist (geom);

-- 睦邻中心 / neighbour centres
CREATE TABLE neighbor_centers (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    name text,
    subdistrict text,
    kind text,
    health_station boolean,
    floor_area_m2 double precision,
    hours text,
    address text,
    district text,
    note text,
    extra_properties json,
    geom geometry(Geometry, 4326),
    feature_order bigint NOT NULL,
    feature_version text NOT NULL
);
CREATE INDEX neighbor_centers_geom ON neighbor_centers USING gist (geom);

-- 社区卫生服务中心/站 / clinics
CREATE TABLE clinics (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    name text,
    level text,
    beds bigint,
    subdistrict text,
    address text,
    district text,
    note text,
    extra_properties json,
    geom geometry(Geometry, 4326),
    feature_order bigint NOT NULL,
    feature_version text NOT NULL
);
CREATE INDEX clinics_geom ON clinics USING gist (geom);

-- 充电桩 / charging points
CREATE TABLE charging_points (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    name text,
    vehicle text,
    ports bigint,
    operator text,
    status text,
    residential_area_id text,
    subdistrict text,
    district text,
    note text,
    extra_properties json,
    geom geometry(Geometry, 4326),
    feature_order bigint NOT NULL,
    feature_version text NOT NULL
);
CREATE INDEX charging_points_geom ON charging_points USING gist (geom);

-- 改造项目 / renovation projects
CREATE TABLE renovation_projects (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    name text,
    kind text,
    status text,
    households bigint,
    units bigint,
    planned_on date,
    survey_on date,
    consultation_on date,
    signed_on date,
    tendering_on date,
    awaiting_start_on date,
    "start" date,
    "end" date,
    residential_area_id text,
    subdistrict text,
    district text,
    note text,
    extra_properties json,
    geom geometry(Geometry, 4326),
    feature_order bigint NOT NULL,
    feature_version text NOT NULL
);
CREATE INDEX renovation_projects_geom ON renovation_projects USING gist (geom);

-- The walking network's street lines (a line layer: name and highway as columns, every
-- property in `properties`), or an OpenStreetMap file kept whole in street_files so that
-- walks follow OSM's own junctions. At most one of the two is filled.
CREATE TABLE streets (
    fid bigserial PRIMARY KEY,
    name text,
    highway text,
    properties json,
    geom geometry(Geometry, 4326)
);
CREATE INDEX streets_geom ON streets USING gist (geom);
CREATE TABLE street_files (
    name text PRIMARY KEY,
    content bytea NOT NULL
);
