-- Jobs of a second kind: MERGE merges an uploaded adapter into a layer without training. A merge job
-- has no training dataset and no hyperparameters; its settings are merge_settings (JSON), its
-- adapter file is adapter_blob_id, and a GPTQ merge's calibration inputs are calibration_dataset_id
-- (a column of its own, so that a dataset in use by a queued merge cannot be deleted).
-- Same dialect rules as V1: only what H2 2.x and PostgreSQL 15 both accept.

ALTER TABLE job ADD COLUMN kind VARCHAR(16) DEFAULT 'TRAINING' NOT NULL;
ALTER TABLE job ADD CONSTRAINT job_kind CHECK (kind IN ('TRAINING', 'MERGE'));
ALTER TABLE job ADD COLUMN merge_settings VARCHAR;
ALTER TABLE job ADD COLUMN adapter_blob_id UUID;
ALTER TABLE job ADD CONSTRAINT job_adapter_blob FOREIGN KEY (adapter_blob_id) REFERENCES blob (id);
ALTER TABLE job ADD COLUMN calibration_dataset_id UUID;
ALTER TABLE job ALTER COLUMN training_dataset_id DROP NOT NULL;
ALTER TABLE job ALTER COLUMN hyperparameters DROP NOT NULL;
ALTER TABLE job ADD CONSTRAINT job_kind_fields CHECK (
    (kind = 'TRAINING' AND training_dataset_id IS NOT NULL AND hyperparameters IS NOT NULL
        AND merge_settings IS NULL AND adapter_blob_id IS NULL AND calibration_dataset_id IS NULL)
    OR (kind = 'MERGE' AND training_dataset_id IS NULL AND validation_dataset_id IS NULL
        AND hyperparameters IS NULL AND merge_settings IS NOT NULL AND adapter_blob_id IS NOT NULL));

CREATE INDEX job_adapter_blob ON job (adapter_blob_id);
CREATE INDEX job_calibration_dataset ON job (calibration_dataset_id);
