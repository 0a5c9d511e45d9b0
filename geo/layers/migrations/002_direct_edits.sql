-- lifecircle 002: edits made on the tables directly (QGIS, psql) are seen and logged.
--
-- lifecircle's own writes mark their transaction (lifecircle.writing = on), bump the layer's
-- revision and log each feature themselves. Any other insert, update or delete of a layer's
-- rows bumps the revision here and gives the layer a new version, so every service process
-- reads the layer again at its next request, and logs each row changed (the feature's
-- columns as properties; values kept in extra_properties are not shown).

ALTER TABLE change_log ALTER COLUMN revision SET DEFAULT 0;

ALTER TABLE residential_areas ALTER COLUMN feature_order SET DEFAULT 9000000000000000000;
ALTER TABLE residential_areas ALTER COLUMN feature_version SET DEFAULT '';
ALTER TABLE neighbor_centers ALTER COLUMN feature_order SET DEFAULT 9000000000000000000;
ALTER TABLE neighbor_centers ALTER COLUMN feature_version SET DEFAULT '';
ALTER TABLE clinics ALTER COLUMN feature_order SET DEFAULT 9000000000000000000;
ALTER TABLE clinics ALTER COLUMN feature_version SET DEFAULT '';
ALTER TABLE charging_points ALTER COLUMN feature_order SET DEFAULT 9000000000000000000;
ALTER TABLE charging_points ALTER COLUMN feature_version SET DEFAULT '';
ALTER TABLE renovation_projects ALTER COLUMN feature_order SET DEFAULT 9000000000000000000;
ALTER TABLE renovation_projects ALTER COLUMN feature_version SET DEFAULT '';

CREATE FUNCTION lifecircle_direct_layer_edit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('lifecircle.writing', true) IS DISTINCT FROM 'on' THEN
        EXECUTE format(
            'UPDATE %I.layer_versions SET revision = revision + 1, changed_at = now(), '
            'version = md5(%L || clock_timestamp()::text || txid_current()::text) '
            'WHERE layer = %L', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION lifecircle_direct_row_edit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    after jsonb;
BEGIN
    IF current_setting('lifecircle.writing', true) IS DISTINCT FROM 'on' THEN
        IF TG_OP <> 'DELETE' THEN
            after := jsonb_build_object(
                'type', 'Feature', 'id', NEW.id,
                'geometry', ST_AsGeoJSON(NEW.geom)::jsonb,
                'properties', jsonb_strip_nulls(to_jsonb(NEW) - 'geom' - 'fid' - 'feature_order'
                                                - 'feature_version' - 'extra_properties'));
        END IF;
        EXECUTE format(
            'INSERT INTO %I.change_log (layer, feature_id, action, old_version, feature) '
            'VALUES ($1, $2, $3, $4, $5)', TG_TABLE_SCHEMA)
        USING TG_TABLE_NAME,
              CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
              lower(TG_OP),
              CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.feature_version END,
              after;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER residential_areas_direct_edit AFTER INSERT OR UPDATE OR DELETE ON residential_areas
    FOR EACH STATEMENT EXECUTE FUNCTION lifecircle_direct_layer_edit();
CREATE TRIGGER residential_areas_direct_row_edit AFTER INSERT OR UPDATE OR DELETE ON residential_areas
    FOR EACH ROW EXECUTE FUNCTION lifecircle_direct_row_edit();
CREATE TRIGGER neighbor_centers_direct_edit AFTER INSERT OR UPDATE OR DELETE ON neighbor_centers
    FOR EACH STATEMENT EXECUTE FUNCTION lifecircle_direct_layer_edit();
CREATE TRIGGER neighbor_centers_direct_row_edit AFTER INSERT OR UPDATE OR DELETE ON neighbor_centers
    FOR EACH ROW EXECUTE FUNCTION lifecircle_direct_row_edit();
CREATE TRIGGER clinics_direct_edit AFTER INSERT OR UPDATE OR DELETE ON clinics
    FOR EACH STATEMENT EXECUTE FUNCTION lifecircle_direct_layer_edit();
CREATE TRIGGER clinics_direct_row_edit AFTER INSERT OR UPDATE OR DELETE ON clinics
    FOR EACH ROW EXECUTE FUNCTION lifecircle_direct_row_edit();
CREATE TRIGGER charging_points_direct_edit AFTER INSERT OR UPDATE OR DELETE ON charging_points
    FOR EACH STATEMENT EXECUTE FUNCTION lifecircle_direct_layer_edit();
CREATE TRIGGER charging_points_direct_row_edit AFTER INSERT OR UPDATE OR DELETE ON charging_points
    FOR EACH ROW EXECUTE FUNCTION lifecircle_direct_row_edit();
CREATE TRIGGER renovation_projects_direct_edit AFTER INSERT OR UPDATE OR DELETE ON renovation_projects
    FOR EACH STATEMENT EXECUTE FUNCTION lifecircle_direct_layer_edit();
CREATE TRIGGER renovation_projects_direct_row_edit AFTER INSERT OR UPDATE OR DELETE ON renovation_projects
    FOR EACH ROW EXECUTE FUNCTION lifecircle_direct_row_edit();
