"""Python side of the ad-precompute dbt project: sample data, pipeline runner, validation."""
