"""Kubeflow Pipelines (kfp 2.x) pipeline 'nbprod', written by `nbprod export kubeflow`.

Compile it with the kfp SDK (and kfp-kubernetes) to the spec Kubeflow runs:
    python kubeflow/pipeline.py [OUTPUT.yaml]
Each component runs one task of pipeline.yaml in the image; the products and the model
store live on the shared volumes mounted in every step.
"""

import sys

from kfp import compiler, dsl, kubernetes

IMAGE = 'nbprod:latest'
IMAGE_PULL_POLICY = 'IfNotPresent'
RETRIES = 2
RETRY_DELAY = "60s"
ENV = {'BENTOML_DO_NOT_TRACK': 'true', 'PLOOMBER_STATS_ENABLED': 'false', 'PLOOMBER_ENV_FILENAME': 'env.yaml', 'BENTOML_HOME': '/bentoml'}
VOLUMES = [('nbprod-products', '/project/products'), ('nbprod-model-store', '/bentoml')]  # (claim, mount path)


def configure(task, name):
    """The settings every step shares."""
    task.set_display_name(name)
    task.set_caching_options(False)  # Ploomber skips what is up to date
    if RETRIES:
        task.set_retry(num_retries=RETRIES, backoff_duration=RETRY_DELAY)
    for key, value in ENV.items():
        task.set_env_variable(key, value)
    kubernetes.set_image_pull_policy(task, IMAGE_PULL_POLICY)
    for claim, mount in VOLUMES:
        kubernetes.mount_pvc(task, pvc_name=claim, mount_path=mount)
    return task


@dsl.container_component
def ingest():
    return dsl.ContainerSpec(image=IMAGE, command=['ploomber', 'build', '--entry-point', 'pipeline.yaml', '--partially', 'ingest', '--skip-upstream'])


@dsl.container_component
def features():
    return dsl.ContainerSpec(image=IMAGE, command=['ploomber', 'build', '--entry-point', 'pipeline.yaml', '--partially', 'features', '--skip-upstream'])


@dsl.container_component
def train():
    return dsl.ContainerSpec(image=IMAGE, command=['ploomber', 'build', '--entry-point', 'pipeline.yaml', '--partially', 'train', '--skip-upstream'])


@dsl.container_component
def evaluate():
    return dsl.ContainerSpec(image=IMAGE, command=['ploomber', 'build', '--entry-point', 'pipeline.yaml', '--partially', 'evaluate', '--skip-upstream'])


@dsl.container_component
def register():
    return dsl.ContainerSpec(image=IMAGE, command=['ploomber', 'build', '--entry-point', 'pipeline.yaml', '--partially', 'register', '--skip-upstream'])


@dsl.container_component
def score():
    return dsl.ContainerSpec(image=IMAGE, command=['ploomber', 'build', '--entry-point', 'pipeline.yaml', '--partially', 'score', '--skip-upstream'])


@dsl.pipeline(name='nbprod')
def pipeline():
    ingest_task = configure(ingest(), 'ingest')
    features_task = configure(features(), 'features').after(ingest_task)
    train_task = configure(train(), 'train').after(features_task)
    evaluate_task = configure(evaluate(), 'evaluate').after(features_task).after(train_task)
    register_task = configure(register(), 'register').after(ingest_task).after(features_task).after(train_task).after(evaluate_task)
    score_task = configure(score(), 'score').after(ingest_task).after(register_task)


if __name__ == "__main__":
    compiler.Compiler().compile(pipeline, sys.argv[1] if len(sys.argv) > 1 else 'kubeflow/pipeline.yaml')
