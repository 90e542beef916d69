CREATE TABLE instance_setting (
	name VARCHAR(64) NOT NULL, 
	value VARCHAR(255) NOT NULL, 
	CONSTRAINT pk_instance_setting PRIMARY KEY (name)
);
CREATE TABLE user (
	uid VARCHAR(8) NOT NULL, 
	handle VARCHAR(64) NOT NULL, 
	name VARCHAR(150), 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_user PRIMARY KEY (id)
);
CREATE INDEX ix_user_created_at ON user (created_at);
CREATE UNIQUE INDEX ix_user_handle ON user (handle);
CREATE INDEX ix_user_name ON user (name);
CREATE UNIQUE INDEX ix_user_uid ON user (uid);
CREATE TABLE branch (
	id INTEGER NOT NULL, 
	uid VARCHAR(12) NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	description TEXT, 
	created_at DATETIME NOT NULL, 
	created_by_id INTEGER, 
	CONSTRAINT pk_branch PRIMARY KEY (id), 
	CONSTRAINT fk_branch_created_by_id_user FOREIGN KEY(created_by_id) REFERENCES user (id)
);
CREATE INDEX ix_branch_name ON branch (name);
CREATE UNIQUE INDEX ix_branch_uid ON branch (uid);
CREATE TABLE space (
	uid VARCHAR(12) NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	description TEXT, 
	created_at DATETIME NOT NULL, 
	created_by_id INTEGER, 
	id INTEGER NOT NULL, 
	CONSTRAINT pk_space PRIMARY KEY (id), 
	CONSTRAINT fk_space_created_by_id_user FOREIGN KEY(created_by_id) REFERENCES user (id)
);
CREATE INDEX ix_space_name ON space (name);
CREATE UNIQUE INDEX ix_space_uid ON space (uid);
CREATE TABLE storage (
	uid VARCHAR(12) NOT NULL, 
	root VARCHAR(255) NOT NULL, 
	description TEXT, 
	type VARCHAR(30) NOT NULL, 
	region VARCHAR(64), 
	instance_uid VARCHAR(12), 
	host VARCHAR(100), 
	created_by_id INTEGER, 
	branch_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_storage PRIMARY KEY (id), 
	CONSTRAINT fk_storage_created_by_id_user FOREIGN KEY(created_by_id) REFERENCES user (id), 
	CONSTRAINT fk_storage_branch_id_branch FOREIGN KEY(branch_id) REFERENCES branch (id)
);
CREATE INDEX ix_storage_created_at ON storage (created_at);
CREATE INDEX ix_storage_instance_uid ON storage (instance_uid);
CREATE UNIQUE INDEX ix_storage_root ON storage (root);
CREATE UNIQUE INDEX ix_storage_uid ON storage (uid);
CREATE TABLE transform (
	uid VARCHAR(16) NOT NULL, 
	"key" VARCHAR(1024), 
	description TEXT, 
	kind VARCHAR(20) NOT NULL, 
	source_code TEXT, 
	hash VARCHAR(22), 
	reference VARCHAR(255), 
	reference_type VARCHAR(25), 
	environment_id INTEGER, 
	version_tag VARCHAR(30), 
	is_latest BOOLEAN NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	created_by_id INTEGER NOT NULL, 
	branch_id INTEGER NOT NULL, 
	space_id INTEGER NOT NULL, 
	CONSTRAINT pk_transform PRIMARY KEY (id), 
	CONSTRAINT fk_transform_environment_id_artifact FOREIGN KEY(environment_id) REFERENCES artifact (id), 
	CONSTRAINT fk_transform_created_by_id_user FOREIGN KEY(created_by_id) REFERENCES user (id), 
	CONSTRAINT fk_transform_branch_id_branch FOREIGN KEY(branch_id) REFERENCES branch (id), 
	CONSTRAINT fk_transform_space_id_space FOREIGN KEY(space_id) REFERENCES space (id)
);
CREATE INDEX ix_transform_created_at ON transform (created_at);
CREATE INDEX ix_transform_hash ON transform (hash);
CREATE INDEX ix_transform_key ON transform ("key");
CREATE INDEX ix_transform_stem ON transform (substr(uid, 1, 12));
CREATE UNIQUE INDEX ix_transform_uid ON transform (uid);
CREATE INDEX ix_transform_version_tag ON transform (version_tag);
CREATE UNIQUE INDEX uq_transform_latest_per_stem ON transform (substr(uid, 1, 12)) WHERE is_latest IS 1;
CREATE TABLE run (
	uid VARCHAR(16) NOT NULL, 
	name VARCHAR(150), 
	transform_id INTEGER NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	status VARCHAR(12) NOT NULL, 
	params JSON, 
	reference VARCHAR(255), 
	reference_type VARCHAR(25), 
	report_id INTEGER, 
	environment_id INTEGER, 
	initiated_by_run_id INTEGER, 
	is_consecutive BOOLEAN, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	created_by_id INTEGER NOT NULL, 
	branch_id INTEGER NOT NULL, 
	space_id INTEGER NOT NULL, 
	CONSTRAINT pk_run PRIMARY KEY (id), 
	CONSTRAINT fk_run_transform_id_transform FOREIGN KEY(transform_id) REFERENCES transform (id) ON DELETE CASCADE, 
	CONSTRAINT fk_run_report_id_artifact FOREIGN KEY(report_id) REFERENCES artifact (id), 
	CONSTRAINT fk_run_environment_id_artifact FOREIGN KEY(environment_id) REFERENCES artifact (id), 
	CONSTRAINT fk_run_initiated_by_run_id_run FOREIGN KEY(initiated_by_run_id) REFERENCES run (id), 
	CONSTRAINT fk_run_created_by_id_user FOREIGN KEY(created_by_id) REFERENCES user (id), 
	CONSTRAINT fk_run_branch_id_branch FOREIGN KEY(branch_id) REFERENCES branch (id), 
	CONSTRAINT fk_run_space_id_space FOREIGN KEY(space_id) REFERENCES space (id)
);
CREATE INDEX ix_run_created_at ON run (created_at);
CREATE INDEX ix_run_finished_at ON run (finished_at);
CREATE INDEX ix_run_initiated_by_run_id ON run (initiated_by_run_id);
CREATE INDEX ix_run_name ON run (name);
CREATE INDEX ix_run_started_at ON run (started_at);
CREATE INDEX ix_run_transform_id ON run (transform_id);
CREATE UNIQUE INDEX ix_run_uid ON run (uid);
CREATE TABLE feature (
	uid VARCHAR(12) NOT NULL, 
	name VARCHAR(150) NOT NULL, 
	dtype VARCHAR(255), 
	unit VARCHAR(30), 
	description TEXT, 
	synonyms TEXT, 
	array_rank INTEGER NOT NULL, 
	array_size INTEGER NOT NULL, 
	array_shape JSON, 
	nullable BOOLEAN NOT NULL, 
	coerce BOOLEAN NOT NULL, 
	default_value JSON, 
	is_type BOOLEAN NOT NULL, 
	type_id INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	run_id INTEGER, 
	created_by_id INTEGER NOT NULL, 
	branch_id INTEGER NOT NULL, 
	space_id INTEGER NOT NULL, 
	CONSTRAINT pk_feature PRIMARY KEY (id), 
	CONSTRAINT fk_feature_type_id_feature FOREIGN KEY(type_id) REFERENCES feature (id), 
	CONSTRAINT fk_feature_run_id_run FOREIGN KEY(run_id) REFERENCES run (id), 
	CONSTRAINT fk_feature_created_by_id_user FOREIGN KEY(created_by_id) REFERENCES user (id), 
	CONSTRAINT fk_feature_branch_id_branch FOREIGN KEY(branch_id) REFERENCES branch (id), 
	CONSTRAINT fk_feature_space_id_space FOREIGN KEY(space_id) REFERENCES space (id)
);
CREATE INDEX ix_feature_created_at ON feature (created_at);
CREATE INDEX ix_feature_dtype ON feature (dtype);
CREATE INDEX ix_feature_name ON feature (name);
CREATE INDEX ix_feature_run_id ON feature (run_id);
CREATE INDEX ix_feature_type_id_name ON feature (type_id, name);
CREATE UNIQUE INDEX ix_feature_uid ON feature (uid);
CREATE TABLE project (
	uid VARCHAR(12) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	description TEXT, 
	synonyms TEXT, 
	abbr VARCHAR(32), 
	url VARCHAR(255), 
	start_date DATE, 
	end_date DATE, 
	is_type BOOLEAN NOT NULL, 
	type_id INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	run_id INTEGER, 
	created_by_id INTEGER NOT NULL, 
	branch_id INTEGER NOT NULL, 
	space_id INTEGER NOT NULL, 
	CONSTRAINT pk_project PRIMARY KEY (id), 
	CONSTRAINT fk_project_type_id_project FOREIGN KEY(type_id) REFERENCES project (id), 
	CONSTRAINT fk_project_run_id_run FOREIGN KEY(run_id) REFERENCES run (id), 
	CONSTRAINT fk_project_created_by_id_user FOREIGN KEY(created_by_id) REFERENCES user (id), 
	CONSTRAINT fk_project_branch_id_branch FOREIGN KEY(branch_id) REFERENCES branch (id), 
	CONSTRAINT fk_project_space_id_space FOREIGN KEY(space_id) REFERENCES space (id)
);
CREATE INDEX ix_project_abbr ON project (abbr);
CREATE INDEX ix_project_created_at ON project (created_at);
CREATE INDEX ix_project_name ON project (name);
CREATE INDEX ix_project_run_id ON project (run_id);
CREATE INDEX ix_project_type_id_name ON project (type_id, name);
CREATE UNIQUE INDEX ix_project_uid ON project (uid);
CREATE TABLE reference (
	uid VARCHAR(12) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	description TEXT, 
	abbr VARCHAR(32), 
	url VARCHAR(500), 
	pubmed_id INTEGER, 
	doi VARCHAR(255), 
	text TEXT, 
	date DATE, 
	is_type BOOLEAN NOT NULL, 
	type_id INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	run_id INTEGER, 
	created_by_id INTEGER NOT NULL, 
	branch_id INTEGER NOT NULL, 
	space_id INTEGER NOT NULL, 
	CONSTRAINT pk_reference PRIMARY KEY (id), 
	CONSTRAINT fk_reference_type_id_reference FOREIGN KEY(type_id) REFERENCES reference (id), 
	CONSTRAINT fk_reference_run_id_run FOREIGN KEY(run_id) REFERENCES run (id), 
	CONSTRAINT fk_reference_created_by_id_user FOREIGN KEY(created_by_id) REFERENCES user (id), 
	CONSTRAINT fk_reference_branch_id_branch FOREIGN KEY(branch_id) REFERENCES branch (id), 
	CONSTRAINT fk_reference_space_id_space FOREIGN KEY(space_id) REFERENCES space (id)
);
CREATE INDEX ix_reference_abbr ON reference (abbr);
CREATE INDEX ix_reference_created_at ON reference (created_at);
CREATE INDEX ix_reference_doi ON reference (doi);
CREATE INDEX ix_reference_name ON reference (name);
CREATE INDEX ix_reference_pubmed_id ON reference (pubmed_id);
CREATE INDEX ix_reference_run_id ON reference (run_id);
CREATE INDEX ix_reference_type_id_name ON reference (type_id, name);
CREATE UNIQUE INDEX ix_reference_uid ON reference (uid);
CREATE INDEX ix_reference_url ON reference (url);
CREATE TABLE ulabel (
	uid VARCHAR(8) NOT NULL, 
	name VARCHAR(150) NOT NULL, 
	description TEXT, 
	synonyms TEXT, 
	reference VARCHAR(255), 
	reference_type VARCHAR(25), 
	is_type BOOLEAN NOT NULL, 
	type_id INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	run_id INTEGER, 
	created_by_id INTEGER NOT NULL, 
	branch_id INTEGER NOT NULL, 
	space_id INTEGER NOT NULL, 
	CONSTRAINT pk_ulabel PRIMARY KEY (id), 
	CONSTRAINT fk_ulabel_type_id_ulabel FOREIGN KEY(type_id) REFERENCES ulabel (id), 
	CONSTRAINT fk_ulabel_run_id_run FOREIGN KEY(run_id) REFERENCES run (id), 
	CONSTRAINT fk_ulabel_created_by_id_user FOREIGN KEY(created_by_id) REFERENCES user (id), 
	CONSTRAINT fk_ulabel_branch_id_branch FOREIGN KEY(branch_id) REFERENCES branch (id), 
	CONSTRAINT fk_ulabel_space_id_space FOREIGN KEY(space_id) REFERENCES space (id)
);
CREATE INDEX ix_ulabel_created_at ON ulabel (created_at);
CREATE INDEX ix_ulabel_name ON ulabel (name);
CREATE INDEX ix_ulabel_reference ON ulabel (reference);
CREATE INDEX ix_ulabel_run_id ON ulabel (run_id);
CREATE INDEX ix_ulabel_type_id_name ON ulabel (type_id, name);
CREATE UNIQUE INDEX ix_ulabel_uid ON ulabel (uid);
CREATE TABLE featurevalue (
	feature_id INTEGER NOT NULL, 
	value JSON NOT NULL, 
	hash VARCHAR(22) NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	run_id INTEGER, 
	created_by_id INTEGER NOT NULL, 
	CONSTRAINT pk_featurevalue PRIMARY KEY (id), 
	CONSTRAINT uq_featurevalue_feature_id_hash UNIQUE (feature_id, hash), 
	CONSTRAINT fk_featurevalue_feature_id_feature FOREIGN KEY(feature_id) REFERENCES feature (id) ON DELETE CASCADE, 
	CONSTRAINT fk_featurevalue_run_id_run FOREIGN KEY(run_id) REFERENCES run (id), 
	CONSTRAINT fk_featurevalue_created_by_id_user FOREIGN KEY(created_by_id) REFERENCES user (id)
);
CREATE INDEX ix_featurevalue_created_at ON featurevalue (created_at);
CREATE INDEX ix_featurevalue_feature_id ON featurevalue (feature_id);
CREATE INDEX ix_featurevalue_hash ON featurevalue (hash);
CREATE INDEX ix_featurevalue_run_id ON featurevalue (run_id);
CREATE TABLE project_parent (
	child_id INTEGER NOT NULL, 
	parent_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_project_parent PRIMARY KEY (id), 
	CONSTRAINT uq_project_parent_child_id_parent_id UNIQUE (child_id, parent_id), 
	CONSTRAINT fk_project_parent_child_id_project FOREIGN KEY(child_id) REFERENCES project (id) ON DELETE CASCADE, 
	CONSTRAINT fk_project_parent_parent_id_project FOREIGN KEY(parent_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE INDEX ix_project_parent_reverse ON project_parent (parent_id, child_id);
CREATE TABLE run_project (
	run_id INTEGER NOT NULL, 
	project_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_run_project PRIMARY KEY (id), 
	CONSTRAINT uq_run_project_run_id_project_id UNIQUE (run_id, project_id), 
	CONSTRAINT fk_run_project_run_id_run FOREIGN KEY(run_id) REFERENCES run (id) ON DELETE CASCADE, 
	CONSTRAINT fk_run_project_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE INDEX ix_run_project_reverse ON run_project (project_id, run_id);
CREATE TABLE run_ulabel (
	run_id INTEGER NOT NULL, 
	ulabel_id INTEGER NOT NULL, 
	feature_id INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_run_ulabel PRIMARY KEY (id), 
	CONSTRAINT uq_run_ulabel_run_id_ulabel_id UNIQUE (run_id, ulabel_id), 
	CONSTRAINT fk_run_ulabel_run_id_run FOREIGN KEY(run_id) REFERENCES run (id) ON DELETE CASCADE, 
	CONSTRAINT fk_run_ulabel_ulabel_id_ulabel FOREIGN KEY(ulabel_id) REFERENCES ulabel (id) ON DELETE CASCADE, 
	CONSTRAINT fk_run_ulabel_feature_id_feature FOREIGN KEY(feature_id) REFERENCES feature (id) ON DELETE CASCADE
);
CREATE INDEX ix_run_ulabel_feature_id ON run_ulabel (feature_id);
CREATE INDEX ix_run_ulabel_reverse ON run_ulabel (ulabel_id, run_id);
CREATE TABLE schema (
	uid VARCHAR(16) NOT NULL, 
	name VARCHAR(150), 
	description TEXT, 
	n INTEGER NOT NULL, 
	dtype VARCHAR(64), 
	itype VARCHAR(120), 
	otype VARCHAR(64), 
	hash VARCHAR(22), 
	minimal_set BOOLEAN NOT NULL, 
	ordered_set BOOLEAN NOT NULL, 
	maximal_set BOOLEAN NOT NULL, 
	coerce BOOLEAN NOT NULL, 
	flexible BOOLEAN, 
	index_feature_id INTEGER, 
	is_type BOOLEAN NOT NULL, 
	type_id INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	run_id INTEGER, 
	created_by_id INTEGER NOT NULL, 
	branch_id INTEGER NOT NULL, 
	space_id INTEGER NOT NULL, 
	CONSTRAINT pk_schema PRIMARY KEY (id), 
	CONSTRAINT fk_schema_index_feature_id_feature FOREIGN KEY(index_feature_id) REFERENCES feature (id), 
	CONSTRAINT fk_schema_type_id_schema FOREIGN KEY(type_id) REFERENCES schema (id), 
	CONSTRAINT fk_schema_run_id_run FOREIGN KEY(run_id) REFERENCES run (id), 
	CONSTRAINT fk_schema_created_by_id_user FOREIGN KEY(created_by_id) REFERENCES user (id), 
	CONSTRAINT fk_schema_branch_id_branch FOREIGN KEY(branch_id) REFERENCES branch (id), 
	CONSTRAINT fk_schema_space_id_space FOREIGN KEY(space_id) REFERENCES space (id)
);
CREATE INDEX ix_schema_created_at ON schema (created_at);
CREATE INDEX ix_schema_hash ON schema (hash);
CREATE INDEX ix_schema_name ON schema (name);
CREATE INDEX ix_schema_run_id ON schema (run_id);
CREATE INDEX ix_schema_type_id_name ON schema (type_id, name);
CREATE UNIQUE INDEX ix_schema_uid ON schema (uid);
CREATE TABLE transform_project (
	transform_id INTEGER NOT NULL, 
	project_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_transform_project PRIMARY KEY (id), 
	CONSTRAINT uq_transform_project_transform_id_project_id UNIQUE (transform_id, project_id), 
	CONSTRAINT fk_transform_project_transform_id_transform FOREIGN KEY(transform_id) REFERENCES transform (id) ON DELETE CASCADE, 
	CONSTRAINT fk_transform_project_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE INDEX ix_transform_project_reverse ON transform_project (project_id, transform_id);
CREATE TABLE transform_reference (
	transform_id INTEGER NOT NULL, 
	reference_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_transform_reference PRIMARY KEY (id), 
	CONSTRAINT uq_transform_reference_transform_id_reference_id UNIQUE (transform_id, reference_id), 
	CONSTRAINT fk_transform_reference_transform_id_transform FOREIGN KEY(transform_id) REFERENCES transform (id) ON DELETE CASCADE, 
	CONSTRAINT fk_transform_reference_reference_id_reference FOREIGN KEY(reference_id) REFERENCES reference (id) ON DELETE CASCADE
);
CREATE INDEX ix_transform_reference_reverse ON transform_reference (reference_id, transform_id);
CREATE TABLE transform_ulabel (
	transform_id INTEGER NOT NULL, 
	ulabel_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_transform_ulabel PRIMARY KEY (id), 
	CONSTRAINT uq_transform_ulabel_transform_id_ulabel_id UNIQUE (transform_id, ulabel_id), 
	CONSTRAINT fk_transform_ulabel_transform_id_transform FOREIGN KEY(transform_id) REFERENCES transform (id) ON DELETE CASCADE, 
	CONSTRAINT fk_transform_ulabel_ulabel_id_ulabel FOREIGN KEY(ulabel_id) REFERENCES ulabel (id) ON DELETE CASCADE
);
CREATE INDEX ix_transform_ulabel_reverse ON transform_ulabel (ulabel_id, transform_id);
CREATE TABLE ulabel_parent (
	child_id INTEGER NOT NULL, 
	parent_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_ulabel_parent PRIMARY KEY (id), 
	CONSTRAINT uq_ulabel_parent_child_id_parent_id UNIQUE (child_id, parent_id), 
	CONSTRAINT fk_ulabel_parent_child_id_ulabel FOREIGN KEY(child_id) REFERENCES ulabel (id) ON DELETE CASCADE, 
	CONSTRAINT fk_ulabel_parent_parent_id_ulabel FOREIGN KEY(parent_id) REFERENCES ulabel (id) ON DELETE CASCADE
);
CREATE INDEX ix_ulabel_parent_reverse ON ulabel_parent (parent_id, child_id);
CREATE TABLE ulabel_project (
	ulabel_id INTEGER NOT NULL, 
	project_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_ulabel_project PRIMARY KEY (id), 
	CONSTRAINT uq_ulabel_project_ulabel_id_project_id UNIQUE (ulabel_id, project_id), 
	CONSTRAINT fk_ulabel_project_ulabel_id_ulabel FOREIGN KEY(ulabel_id) REFERENCES ulabel (id) ON DELETE CASCADE, 
	CONSTRAINT fk_ulabel_project_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE INDEX ix_ulabel_project_reverse ON ulabel_project (project_id, ulabel_id);
CREATE TABLE artifact (
	uid VARCHAR(20) NOT NULL, 
	"key" VARCHAR(1024), 
	description TEXT, 
	storage_id INTEGER NOT NULL, 
	suffix VARCHAR(30) NOT NULL, 
	kind VARCHAR(20), 
	otype VARCHAR(64), 
	size BIGINT, 
	hash VARCHAR(22), 
	n_files INTEGER, 
	n_observations BIGINT, 
	transform_id INTEGER, 
	schema_id INTEGER, 
	_key_is_virtual BOOLEAN NOT NULL, 
	_hash_type VARCHAR(30), 
	version_tag VARCHAR(30), 
	is_latest BOOLEAN NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	run_id INTEGER, 
	created_by_id INTEGER NOT NULL, 
	branch_id INTEGER NOT NULL, 
	space_id INTEGER NOT NULL, 
	CONSTRAINT pk_artifact PRIMARY KEY (id), 
	CONSTRAINT fk_artifact_storage_id_storage FOREIGN KEY(storage_id) REFERENCES storage (id), 
	CONSTRAINT fk_artifact_transform_id_transform FOREIGN KEY(transform_id) REFERENCES transform (id), 
	CONSTRAINT fk_artifact_schema_id_schema FOREIGN KEY(schema_id) REFERENCES schema (id), 
	CONSTRAINT fk_artifact_run_id_run FOREIGN KEY(run_id) REFERENCES run (id), 
	CONSTRAINT fk_artifact_created_by_id_user FOREIGN KEY(created_by_id) REFERENCES user (id), 
	CONSTRAINT fk_artifact_branch_id_branch FOREIGN KEY(branch_id) REFERENCES branch (id), 
	CONSTRAINT fk_artifact_space_id_space FOREIGN KEY(space_id) REFERENCES space (id)
);
CREATE TRIGGER artifact_featurevalue_follows_artifact AFTER UPDATE OF branch_id, kind ON artifact FOR EACH ROW WHEN OLD.branch_id IS NOT NEW.branch_id OR OLD.kind IS NOT NEW.kind BEGIN UPDATE artifact_featurevalue SET owner_branch_id = CASE WHEN substr(NEW.kind, 1, 9) = '__lamella' THEN NULL ELSE NEW.branch_id END WHERE artifact_id = NEW.id; END;
CREATE TRIGGER artifact_project_follows_artifact AFTER UPDATE OF branch_id, kind ON artifact FOR EACH ROW WHEN OLD.branch_id IS NOT NEW.branch_id OR OLD.kind IS NOT NEW.kind BEGIN UPDATE artifact_project SET owner_branch_id = CASE WHEN substr(NEW.kind, 1, 9) = '__lamella' THEN NULL ELSE NEW.branch_id END WHERE artifact_id = NEW.id; END;
CREATE TRIGGER artifact_record_follows_artifact AFTER UPDATE OF branch_id, kind ON artifact FOR EACH ROW WHEN OLD.branch_id IS NOT NEW.branch_id OR OLD.kind IS NOT NEW.kind BEGIN UPDATE artifact_record SET owner_branch_id = CASE WHEN substr(NEW.kind, 1, 9) = '__lamella' THEN NULL ELSE NEW.branch_id END WHERE artifact_id = NEW.id; END;
CREATE TRIGGER artifact_reference_follows_artifact AFTER UPDATE OF branch_id, kind ON artifact FOR EACH ROW WHEN OLD.branch_id IS NOT NEW.branch_id OR OLD.kind IS NOT NEW.kind BEGIN UPDATE artifact_reference SET owner_branch_id = CASE WHEN substr(NEW.kind, 1, 9) = '__lamella' THEN NULL ELSE NEW.branch_id END WHERE artifact_id = NEW.id; END;
CREATE TRIGGER artifact_schema_follows_artifact AFTER UPDATE OF branch_id, kind ON artifact FOR EACH ROW WHEN OLD.branch_id IS NOT NEW.branch_id OR OLD.kind IS NOT NEW.kind BEGIN UPDATE artifact_schema SET owner_branch_id = CASE WHEN substr(NEW.kind, 1, 9) = '__lamella' THEN NULL ELSE NEW.branch_id END WHERE artifact_id = NEW.id; END;
CREATE TRIGGER artifact_ulabel_follows_artifact AFTER UPDATE OF branch_id, kind ON artifact FOR EACH ROW WHEN OLD.branch_id IS NOT NEW.branch_id OR OLD.kind IS NOT NEW.kind BEGIN UPDATE artifact_ulabel SET owner_branch_id = CASE WHEN substr(NEW.kind, 1, 9) = '__lamella' THEN NULL ELSE NEW.branch_id END WHERE artifact_id = NEW.id; END;
CREATE INDEX ix_artifact_created_at ON artifact (created_at);
CREATE INDEX ix_artifact_hash ON artifact (hash);
CREATE INDEX ix_artifact_key_listing ON artifact ("key", branch_id, kind, created_at);
CREATE INDEX ix_artifact_run_id ON artifact (run_id);
CREATE INDEX ix_artifact_schema_id ON artifact (schema_id);
CREATE INDEX ix_artifact_size ON artifact (size);
CREATE INDEX ix_artifact_stem ON artifact (substr(uid, 1, 16));
CREATE INDEX ix_artifact_transform_id ON artifact (transform_id);
CREATE UNIQUE INDEX ix_artifact_uid ON artifact (uid);
CREATE INDEX ix_artifact_version_tag ON artifact (version_tag);
CREATE UNIQUE INDEX uq_artifact_latest_per_stem ON artifact (substr(uid, 1, 16)) WHERE is_latest IS 1;
CREATE TABLE record (
	uid VARCHAR(16) NOT NULL, 
	name VARCHAR(150), 
	description TEXT, 
	synonyms TEXT, 
	reference VARCHAR(255), 
	reference_type VARCHAR(25), 
	is_type BOOLEAN NOT NULL, 
	type_id INTEGER, 
	schema_id INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	run_id INTEGER, 
	created_by_id INTEGER NOT NULL, 
	branch_id INTEGER NOT NULL, 
	space_id INTEGER NOT NULL, 
	CONSTRAINT pk_record PRIMARY KEY (id), 
	CONSTRAINT fk_record_type_id_record FOREIGN KEY(type_id) REFERENCES record (id), 
	CONSTRAINT fk_record_schema_id_schema FOREIGN KEY(schema_id) REFERENCES schema (id), 
	CONSTRAINT fk_record_run_id_run FOREIGN KEY(run_id) REFERENCES run (id), 
	CONSTRAINT fk_record_created_by_id_user FOREIGN KEY(created_by_id) REFERENCES user (id), 
	CONSTRAINT fk_record_branch_id_branch FOREIGN KEY(branch_id) REFERENCES branch (id), 
	CONSTRAINT fk_record_space_id_space FOREIGN KEY(space_id) REFERENCES space (id)
);
CREATE INDEX ix_record_created_at ON record (created_at);
CREATE INDEX ix_record_name ON record (name);
CREATE INDEX ix_record_reference ON record (reference);
CREATE INDEX ix_record_run_id ON record (run_id);
CREATE INDEX ix_record_schema_id ON record (schema_id);
CREATE INDEX ix_record_type_id_name ON record (type_id, name);
CREATE UNIQUE INDEX ix_record_uid ON record (uid);
CREATE TABLE run_featurevalue (
	run_id INTEGER NOT NULL, 
	featurevalue_id INTEGER NOT NULL, 
	feature_id INTEGER NOT NULL, 
	value_num DOUBLE, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_run_featurevalue PRIMARY KEY (id), 
	CONSTRAINT uq_run_featurevalue_run_id_featurevalue_id UNIQUE (run_id, featurevalue_id), 
	CONSTRAINT fk_run_featurevalue_run_id_run FOREIGN KEY(run_id) REFERENCES run (id) ON DELETE CASCADE, 
	CONSTRAINT fk_run_featurevalue_featurevalue_id_featurevalue FOREIGN KEY(featurevalue_id) REFERENCES featurevalue (id) ON DELETE CASCADE, 
	CONSTRAINT fk_run_featurevalue_feature_id_feature FOREIGN KEY(feature_id) REFERENCES feature (id) ON DELETE CASCADE
);
CREATE INDEX ix_run_featurevalue_number ON run_featurevalue (feature_id, value_num, run_id);
CREATE INDEX ix_run_featurevalue_reverse ON run_featurevalue (featurevalue_id, run_id);
CREATE TABLE schema_component (
	composite_id INTEGER NOT NULL, 
	component_id INTEGER NOT NULL, 
	slot VARCHAR(40) NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_schema_component PRIMARY KEY (id), 
	CONSTRAINT uq_schema_component_composite_id_slot UNIQUE (composite_id, slot), 
	CONSTRAINT fk_schema_component_composite_id_schema FOREIGN KEY(composite_id) REFERENCES schema (id) ON DELETE CASCADE, 
	CONSTRAINT fk_schema_component_component_id_schema FOREIGN KEY(component_id) REFERENCES schema (id) ON DELETE CASCADE
);
CREATE INDEX ix_schema_component_reverse ON schema_component (component_id, composite_id);
CREATE TABLE schema_feature (
	schema_id INTEGER NOT NULL, 
	feature_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	is_optional BOOLEAN NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_schema_feature PRIMARY KEY (id), 
	CONSTRAINT uq_schema_feature_schema_id_feature_id UNIQUE (schema_id, feature_id), 
	CONSTRAINT fk_schema_feature_schema_id_schema FOREIGN KEY(schema_id) REFERENCES schema (id) ON DELETE CASCADE, 
	CONSTRAINT fk_schema_feature_feature_id_feature FOREIGN KEY(feature_id) REFERENCES feature (id) ON DELETE CASCADE
);
CREATE INDEX ix_schema_feature_reverse ON schema_feature (feature_id, schema_id);
CREATE TABLE artifact_featurevalue (
	artifact_id INTEGER NOT NULL, 
	featurevalue_id INTEGER NOT NULL, 
	feature_id INTEGER NOT NULL, 
	value_num DOUBLE, 
	owner_branch_id INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_artifact_featurevalue PRIMARY KEY (id), 
	CONSTRAINT uq_artifact_featurevalue_artifact_id_featurevalue_id UNIQUE (artifact_id, featurevalue_id), 
	CONSTRAINT fk_artifact_featurevalue_artifact_id_artifact FOREIGN KEY(artifact_id) REFERENCES artifact (id) ON DELETE CASCADE, 
	CONSTRAINT fk_artifact_featurevalue_featurevalue_id_featurevalue FOREIGN KEY(featurevalue_id) REFERENCES featurevalue (id) ON DELETE CASCADE, 
	CONSTRAINT fk_artifact_featurevalue_feature_id_feature FOREIGN KEY(feature_id) REFERENCES feature (id) ON DELETE CASCADE
);
CREATE TRIGGER artifact_featurevalue_owner_branch AFTER INSERT ON artifact_featurevalue FOR EACH ROW BEGIN UPDATE artifact_featurevalue SET owner_branch_id = (SELECT CASE WHEN substr(a.kind, 1, 9) = '__lamella' THEN NULL ELSE a.branch_id END FROM artifact AS a WHERE a.id = NEW.artifact_id) WHERE id = NEW.id; END;
CREATE TRIGGER artifact_featurevalue_owner_branch_moved AFTER UPDATE OF artifact_id ON artifact_featurevalue FOR EACH ROW BEGIN UPDATE artifact_featurevalue SET owner_branch_id = (SELECT CASE WHEN substr(a.kind, 1, 9) = '__lamella' THEN NULL ELSE a.branch_id END FROM artifact AS a WHERE a.id = NEW.artifact_id) WHERE id = NEW.id; END;
CREATE INDEX ix_artifact_featurevalue_number ON artifact_featurevalue (feature_id, value_num, artifact_id, owner_branch_id);
CREATE INDEX ix_artifact_featurevalue_reverse ON artifact_featurevalue (featurevalue_id, artifact_id, owner_branch_id);
CREATE TABLE artifact_project (
	artifact_id INTEGER NOT NULL, 
	project_id INTEGER NOT NULL, 
	feature_id INTEGER, 
	owner_branch_id INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_artifact_project PRIMARY KEY (id), 
	CONSTRAINT uq_artifact_project_artifact_id_project_id UNIQUE (artifact_id, project_id), 
	CONSTRAINT fk_artifact_project_artifact_id_artifact FOREIGN KEY(artifact_id) REFERENCES artifact (id) ON DELETE CASCADE, 
	CONSTRAINT fk_artifact_project_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE, 
	CONSTRAINT fk_artifact_project_feature_id_feature FOREIGN KEY(feature_id) REFERENCES feature (id) ON DELETE CASCADE
);
CREATE TRIGGER artifact_project_owner_branch AFTER INSERT ON artifact_project FOR EACH ROW BEGIN UPDATE artifact_project SET owner_branch_id = (SELECT CASE WHEN substr(a.kind, 1, 9) = '__lamella' THEN NULL ELSE a.branch_id END FROM artifact AS a WHERE a.id = NEW.artifact_id) WHERE id = NEW.id; END;
CREATE TRIGGER artifact_project_owner_branch_moved AFTER UPDATE OF artifact_id ON artifact_project FOR EACH ROW BEGIN UPDATE artifact_project SET owner_branch_id = (SELECT CASE WHEN substr(a.kind, 1, 9) = '__lamella' THEN NULL ELSE a.branch_id END FROM artifact AS a WHERE a.id = NEW.artifact_id) WHERE id = NEW.id; END;
CREATE INDEX ix_artifact_project_feature_id ON artifact_project (feature_id);
CREATE INDEX ix_artifact_project_reverse ON artifact_project (project_id, artifact_id, owner_branch_id);
CREATE TABLE artifact_record (
	artifact_id INTEGER NOT NULL, 
	record_id INTEGER NOT NULL, 
	feature_id INTEGER, 
	owner_branch_id INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_artifact_record PRIMARY KEY (id), 
	CONSTRAINT uq_artifact_record_artifact_id_record_id_feature_id UNIQUE (artifact_id, record_id, feature_id), 
	CONSTRAINT fk_artifact_record_artifact_id_artifact FOREIGN KEY(artifact_id) REFERENCES artifact (id) ON DELETE CASCADE, 
	CONSTRAINT fk_artifact_record_record_id_record FOREIGN KEY(record_id) REFERENCES record (id) ON DELETE CASCADE, 
	CONSTRAINT fk_artifact_record_feature_id_feature FOREIGN KEY(feature_id) REFERENCES feature (id) ON DELETE CASCADE
);
CREATE TRIGGER artifact_record_owner_branch AFTER INSERT ON artifact_record FOR EACH ROW BEGIN UPDATE artifact_record SET owner_branch_id = (SELECT CASE WHEN substr(a.kind, 1, 9) = '__lamella' THEN NULL ELSE a.branch_id END FROM artifact AS a WHERE a.id = NEW.artifact_id) WHERE id = NEW.id; END;
CREATE TRIGGER artifact_record_owner_branch_moved AFTER UPDATE OF artifact_id ON artifact_record FOR EACH ROW BEGIN UPDATE artifact_record SET owner_branch_id = (SELECT CASE WHEN substr(a.kind, 1, 9) = '__lamella' THEN NULL ELSE a.branch_id END FROM artifact AS a WHERE a.id = NEW.artifact_id) WHERE id = NEW.id; END;
CREATE INDEX ix_artifact_record_feature_id ON artifact_record (feature_id);
CREATE INDEX ix_artifact_record_reverse ON artifact_record (record_id, artifact_id, feature_id, owner_branch_id);
CREATE TABLE artifact_reference (
	artifact_id INTEGER NOT NULL, 
	reference_id INTEGER NOT NULL, 
	feature_id INTEGER, 
	owner_branch_id INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_artifact_reference PRIMARY KEY (id), 
	CONSTRAINT uq_artifact_reference_artifact_id_reference_id UNIQUE (artifact_id, reference_id), 
	CONSTRAINT fk_artifact_reference_artifact_id_artifact FOREIGN KEY(artifact_id) REFERENCES artifact (id) ON DELETE CASCADE, 
	CONSTRAINT fk_artifact_reference_reference_id_reference FOREIGN KEY(reference_id) REFERENCES reference (id) ON DELETE CASCADE, 
	CONSTRAINT fk_artifact_reference_feature_id_feature FOREIGN KEY(feature_id) REFERENCES feature (id) ON DELETE CASCADE
);
CREATE TRIGGER artifact_reference_owner_branch AFTER INSERT ON artifact_reference FOR EACH ROW BEGIN UPDATE artifact_reference SET owner_branch_id = (SELECT CASE WHEN substr(a.kind, 1, 9) = '__lamella' THEN NULL ELSE a.branch_id END FROM artifact AS a WHERE a.id = NEW.artifact_id) WHERE id = NEW.id; END;
CREATE TRIGGER artifact_reference_owner_branch_moved AFTER UPDATE OF artifact_id ON artifact_reference FOR EACH ROW BEGIN UPDATE artifact_reference SET owner_branch_id = (SELECT CASE WHEN substr(a.kind, 1, 9) = '__lamella' THEN NULL ELSE a.branch_id END FROM artifact AS a WHERE a.id = NEW.artifact_id) WHERE id = NEW.id; END;
CREATE INDEX ix_artifact_reference_feature_id ON artifact_reference (feature_id);
CREATE INDEX ix_artifact_reference_reverse ON artifact_reference (reference_id, artifact_id, owner_branch_id);
CREATE TABLE artifact_schema (
	artifact_id INTEGER NOT NULL, 
	schema_id INTEGER NOT NULL, 
	slot VARCHAR(40), 
	owner_branch_id INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_artifact_schema PRIMARY KEY (id), 
	CONSTRAINT uq_artifact_schema_artifact_id_slot UNIQUE (artifact_id, slot), 
	CONSTRAINT fk_artifact_schema_artifact_id_artifact FOREIGN KEY(artifact_id) REFERENCES artifact (id) ON DELETE CASCADE, 
	CONSTRAINT fk_artifact_schema_schema_id_schema FOREIGN KEY(schema_id) REFERENCES schema (id) ON DELETE CASCADE
);
CREATE TRIGGER artifact_schema_owner_branch AFTER INSERT ON artifact_schema FOR EACH ROW BEGIN UPDATE artifact_schema SET owner_branch_id = (SELECT CASE WHEN substr(a.kind, 1, 9) = '__lamella' THEN NULL ELSE a.branch_id END FROM artifact AS a WHERE a.id = NEW.artifact_id) WHERE id = NEW.id; END;
CREATE TRIGGER artifact_schema_owner_branch_moved AFTER UPDATE OF artifact_id ON artifact_schema FOR EACH ROW BEGIN UPDATE artifact_schema SET owner_branch_id = (SELECT CASE WHEN substr(a.kind, 1, 9) = '__lamella' THEN NULL ELSE a.branch_id END FROM artifact AS a WHERE a.id = NEW.artifact_id) WHERE id = NEW.id; END;
CREATE INDEX ix_artifact_schema_reverse ON artifact_schema (schema_id, artifact_id, owner_branch_id);
CREATE TABLE artifact_ulabel (
	artifact_id INTEGER NOT NULL, 
	ulabel_id INTEGER NOT NULL, 
	feature_id INTEGER, 
	owner_branch_id INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_artifact_ulabel PRIMARY KEY (id), 
	CONSTRAINT uq_artifact_ulabel_artifact_id_ulabel_id_feature_id UNIQUE (artifact_id, ulabel_id, feature_id), 
	CONSTRAINT fk_artifact_ulabel_artifact_id_artifact FOREIGN KEY(artifact_id) REFERENCES artifact (id) ON DELETE CASCADE, 
	CONSTRAINT fk_artifact_ulabel_ulabel_id_ulabel FOREIGN KEY(ulabel_id) REFERENCES ulabel (id) ON DELETE CASCADE, 
	CONSTRAINT fk_artifact_ulabel_feature_id_feature FOREIGN KEY(feature_id) REFERENCES feature (id) ON DELETE CASCADE
);
CREATE TRIGGER artifact_ulabel_owner_branch AFTER INSERT ON artifact_ulabel FOR EACH ROW BEGIN UPDATE artifact_ulabel SET owner_branch_id = (SELECT CASE WHEN substr(a.kind, 1, 9) = '__lamella' THEN NULL ELSE a.branch_id END FROM artifact AS a WHERE a.id = NEW.artifact_id) WHERE id = NEW.id; END;
CREATE TRIGGER artifact_ulabel_owner_branch_moved AFTER UPDATE OF artifact_id ON artifact_ulabel FOR EACH ROW BEGIN UPDATE artifact_ulabel SET owner_branch_id = (SELECT CASE WHEN substr(a.kind, 1, 9) = '__lamella' THEN NULL ELSE a.branch_id END FROM artifact AS a WHERE a.id = NEW.artifact_id) WHERE id = NEW.id; END;
CREATE INDEX ix_artifact_ulabel_feature_id ON artifact_ulabel (feature_id);
CREATE INDEX ix_artifact_ulabel_reverse ON artifact_ulabel (ulabel_id, artifact_id, feature_id, owner_branch_id);
CREATE TABLE collection (
	uid VARCHAR(20) NOT NULL, 
	"key" VARCHAR(1024), 
	description TEXT, 
	hash VARCHAR(22), 
	reference VARCHAR(255), 
	reference_type VARCHAR(25), 
	meta_artifact_id INTEGER, 
	transform_id INTEGER, 
	version_tag VARCHAR(30), 
	is_latest BOOLEAN NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	run_id INTEGER, 
	created_by_id INTEGER NOT NULL, 
	branch_id INTEGER NOT NULL, 
	space_id INTEGER NOT NULL, 
	CONSTRAINT pk_collection PRIMARY KEY (id), 
	CONSTRAINT fk_collection_meta_artifact_id_artifact FOREIGN KEY(meta_artifact_id) REFERENCES artifact (id), 
	CONSTRAINT fk_collection_transform_id_transform FOREIGN KEY(transform_id) REFERENCES transform (id), 
	CONSTRAINT fk_collection_run_id_run FOREIGN KEY(run_id) REFERENCES run (id), 
	CONSTRAINT fk_collection_created_by_id_user FOREIGN KEY(created_by_id) REFERENCES user (id), 
	CONSTRAINT fk_collection_branch_id_branch FOREIGN KEY(branch_id) REFERENCES branch (id), 
	CONSTRAINT fk_collection_space_id_space FOREIGN KEY(space_id) REFERENCES space (id)
);
CREATE INDEX ix_collection_created_at ON collection (created_at);
CREATE INDEX ix_collection_hash ON collection (hash);
CREATE INDEX ix_collection_key ON collection ("key");
CREATE INDEX ix_collection_run_id ON collection (run_id);
CREATE INDEX ix_collection_stem ON collection (substr(uid, 1, 16));
CREATE INDEX ix_collection_transform_id ON collection (transform_id);
CREATE UNIQUE INDEX ix_collection_uid ON collection (uid);
CREATE INDEX ix_collection_version_tag ON collection (version_tag);
CREATE UNIQUE INDEX uq_collection_latest_per_stem ON collection (substr(uid, 1, 16)) WHERE is_latest IS 1;
CREATE TABLE record_json (
	record_id INTEGER NOT NULL, 
	feature_id INTEGER NOT NULL, 
	value JSON NOT NULL, 
	value_num DOUBLE, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_record_json PRIMARY KEY (id), 
	CONSTRAINT uq_record_json_record_id_feature_id UNIQUE (record_id, feature_id), 
	CONSTRAINT fk_record_json_record_id_record FOREIGN KEY(record_id) REFERENCES record (id) ON DELETE CASCADE, 
	CONSTRAINT fk_record_json_feature_id_feature FOREIGN KEY(feature_id) REFERENCES feature (id) ON DELETE CASCADE
);
CREATE INDEX ix_record_json_number ON record_json (feature_id, value_num, record_id);
CREATE TABLE record_parent (
	child_id INTEGER NOT NULL, 
	parent_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_record_parent PRIMARY KEY (id), 
	CONSTRAINT uq_record_parent_child_id_parent_id UNIQUE (child_id, parent_id), 
	CONSTRAINT fk_record_parent_child_id_record FOREIGN KEY(child_id) REFERENCES record (id) ON DELETE CASCADE, 
	CONSTRAINT fk_record_parent_parent_id_record FOREIGN KEY(parent_id) REFERENCES record (id) ON DELETE CASCADE
);
CREATE INDEX ix_record_parent_reverse ON record_parent (parent_id, child_id);
CREATE TABLE record_project (
	record_id INTEGER NOT NULL, 
	project_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_record_project PRIMARY KEY (id), 
	CONSTRAINT uq_record_project_record_id_project_id UNIQUE (record_id, project_id), 
	CONSTRAINT fk_record_project_record_id_record FOREIGN KEY(record_id) REFERENCES record (id) ON DELETE CASCADE, 
	CONSTRAINT fk_record_project_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE INDEX ix_record_project_reverse ON record_project (project_id, record_id);
CREATE TABLE record_record (
	record_id INTEGER NOT NULL, 
	feature_id INTEGER NOT NULL, 
	value_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_record_record PRIMARY KEY (id), 
	CONSTRAINT uq_record_record_record_id_feature_id_value_id UNIQUE (record_id, feature_id, value_id), 
	CONSTRAINT fk_record_record_record_id_record FOREIGN KEY(record_id) REFERENCES record (id) ON DELETE CASCADE, 
	CONSTRAINT fk_record_record_feature_id_feature FOREIGN KEY(feature_id) REFERENCES feature (id) ON DELETE CASCADE, 
	CONSTRAINT fk_record_record_value_id_record FOREIGN KEY(value_id) REFERENCES record (id) ON DELETE CASCADE
);
CREATE INDEX ix_record_record_feature_id ON record_record (feature_id);
CREATE INDEX ix_record_record_reverse ON record_record (value_id, record_id, feature_id);
CREATE TABLE record_reference (
	record_id INTEGER NOT NULL, 
	reference_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_record_reference PRIMARY KEY (id), 
	CONSTRAINT uq_record_reference_record_id_reference_id UNIQUE (record_id, reference_id), 
	CONSTRAINT fk_record_reference_record_id_record FOREIGN KEY(record_id) REFERENCES record (id) ON DELETE CASCADE, 
	CONSTRAINT fk_record_reference_reference_id_reference FOREIGN KEY(reference_id) REFERENCES reference (id) ON DELETE CASCADE
);
CREATE INDEX ix_record_reference_reverse ON record_reference (reference_id, record_id);
CREATE TABLE record_ulabel (
	record_id INTEGER NOT NULL, 
	feature_id INTEGER NOT NULL, 
	ulabel_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_record_ulabel PRIMARY KEY (id), 
	CONSTRAINT uq_record_ulabel_record_id_feature_id_ulabel_id UNIQUE (record_id, feature_id, ulabel_id), 
	CONSTRAINT fk_record_ulabel_record_id_record FOREIGN KEY(record_id) REFERENCES record (id) ON DELETE CASCADE, 
	CONSTRAINT fk_record_ulabel_feature_id_feature FOREIGN KEY(feature_id) REFERENCES feature (id) ON DELETE CASCADE, 
	CONSTRAINT fk_record_ulabel_ulabel_id_ulabel FOREIGN KEY(ulabel_id) REFERENCES ulabel (id) ON DELETE CASCADE
);
CREATE INDEX ix_record_ulabel_feature_id ON record_ulabel (feature_id);
CREATE INDEX ix_record_ulabel_reverse ON record_ulabel (ulabel_id, record_id, feature_id);
CREATE TABLE run_input_artifact (
	run_id INTEGER NOT NULL, 
	artifact_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_run_input_artifact PRIMARY KEY (id), 
	CONSTRAINT uq_run_input_artifact_run_id_artifact_id UNIQUE (run_id, artifact_id), 
	CONSTRAINT fk_run_input_artifact_run_id_run FOREIGN KEY(run_id) REFERENCES run (id) ON DELETE CASCADE, 
	CONSTRAINT fk_run_input_artifact_artifact_id_artifact FOREIGN KEY(artifact_id) REFERENCES artifact (id) ON DELETE CASCADE
);
CREATE INDEX ix_run_input_artifact_reverse ON run_input_artifact (artifact_id, run_id);
CREATE TABLE collection_artifact (
	collection_id INTEGER NOT NULL, 
	artifact_id INTEGER NOT NULL, 
	position INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_collection_artifact PRIMARY KEY (id), 
	CONSTRAINT uq_collection_artifact_collection_id_artifact_id UNIQUE (collection_id, artifact_id), 
	CONSTRAINT fk_collection_artifact_collection_id_collection FOREIGN KEY(collection_id) REFERENCES collection (id) ON DELETE CASCADE, 
	CONSTRAINT fk_collection_artifact_artifact_id_artifact FOREIGN KEY(artifact_id) REFERENCES artifact (id) ON DELETE CASCADE
);
CREATE INDEX ix_collection_artifact_reverse ON collection_artifact (artifact_id, collection_id);
CREATE TABLE collection_project (
	collection_id INTEGER NOT NULL, 
	project_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_collection_project PRIMARY KEY (id), 
	CONSTRAINT uq_collection_project_collection_id_project_id UNIQUE (collection_id, project_id), 
	CONSTRAINT fk_collection_project_collection_id_collection FOREIGN KEY(collection_id) REFERENCES collection (id) ON DELETE CASCADE, 
	CONSTRAINT fk_collection_project_project_id_project FOREIGN KEY(project_id) REFERENCES project (id) ON DELETE CASCADE
);
CREATE INDEX ix_collection_project_reverse ON collection_project (project_id, collection_id);
CREATE TABLE collection_reference (
	collection_id INTEGER NOT NULL, 
	reference_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_collection_reference PRIMARY KEY (id), 
	CONSTRAINT uq_collection_reference_collection_id_reference_id UNIQUE (collection_id, reference_id), 
	CONSTRAINT fk_collection_reference_collection_id_collection FOREIGN KEY(collection_id) REFERENCES collection (id) ON DELETE CASCADE, 
	CONSTRAINT fk_collection_reference_reference_id_reference FOREIGN KEY(reference_id) REFERENCES reference (id) ON DELETE CASCADE
);
CREATE INDEX ix_collection_reference_reverse ON collection_reference (reference_id, collection_id);
CREATE TABLE collection_ulabel (
	collection_id INTEGER NOT NULL, 
	ulabel_id INTEGER NOT NULL, 
	feature_id INTEGER, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_collection_ulabel PRIMARY KEY (id), 
	CONSTRAINT uq_collection_ulabel_collection_id_ulabel_id UNIQUE (collection_id, ulabel_id), 
	CONSTRAINT fk_collection_ulabel_collection_id_collection FOREIGN KEY(collection_id) REFERENCES collection (id) ON DELETE CASCADE, 
	CONSTRAINT fk_collection_ulabel_ulabel_id_ulabel FOREIGN KEY(ulabel_id) REFERENCES ulabel (id) ON DELETE CASCADE, 
	CONSTRAINT fk_collection_ulabel_feature_id_feature FOREIGN KEY(feature_id) REFERENCES feature (id) ON DELETE CASCADE
);
CREATE INDEX ix_collection_ulabel_feature_id ON collection_ulabel (feature_id);
CREATE INDEX ix_collection_ulabel_reverse ON collection_ulabel (ulabel_id, collection_id);
CREATE TABLE run_input_collection (
	run_id INTEGER NOT NULL, 
	collection_id INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_run_input_collection PRIMARY KEY (id), 
	CONSTRAINT uq_run_input_collection_run_id_collection_id UNIQUE (run_id, collection_id), 
	CONSTRAINT fk_run_input_collection_run_id_run FOREIGN KEY(run_id) REFERENCES run (id) ON DELETE CASCADE, 
	CONSTRAINT fk_run_input_collection_collection_id_collection FOREIGN KEY(collection_id) REFERENCES collection (id) ON DELETE CASCADE
);
CREATE INDEX ix_run_input_collection_reverse ON run_input_collection (collection_id, run_id);
CREATE TABLE "alembic_version" (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version (version_num) VALUES ('0007');
