-- lifecircle 004: the facility catalogue's other kinds, one layer (`facilities`) whose
-- `category` is a kind of geo/catalogue.toml (kindergartens, schools, markets, parks …).
--
-- The same shape as the layers of 001, with 002's defaults and triggers, so lifecircle's
-- writes, edits made on the table directly (QGIS, psql) and the change log work as for
-- every other layer. A database made before this file gets the table from
-- `lifecircle store init` (each migration is applied once).

CREATE TABLE facilities (
    fid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    name text,
    category text,
    capacity bigint,
    floor_area_m2 double precision,
    subdistrict text,
    address text,
    district text,
    note text,
    extra_properties json,
    geom geometry(Geometry, 4326),
    feature_order bigint NOT NULL DEFAULT 9000000000000000000,
    feature_version text NOT NULL DEFAULT ''
);
CREATE INDEX facilities_geom ON facilities USING gist (geom);

INSERT INTO layer_versions (layer) VALUES ('facilities');

CREATE TRIGGER facilities_direct_edit AFTER INSERT OR UPDATE OR DELETE ON facilities
    FOR EACH STATEMENT EXECUTE FUNCTION lifecircle_direct_layer_edit();
CREATE TRIGGER facilities_direct_row_edit AFTER INSERT OR UPDATE OR DELETE ON facilities
    FOR EACH ROW EXECUTE FUNCTION lifecircle_direct_row_edit();
