# The image every exported step runs in (export.yaml `image`): the pinned environment plus
# this project, with the pipeline's files at /project (the working directory of each step).
#   docker build -t registry.example.com/nbprod:1.0 . && docker push registry.example.com/nbprod:1.0
FROM python:3.11-slim

ENV BENTOML_DO_NOT_TRACK=true PLOOMBER_STATS_ENABLED=false PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /project
COPY requirements.lock.txt ./
RUN pip install --no-cache-dir --requirement requirements.lock.txt

# pipeline.yaml, env.yaml, notebooks, data, src (.dockerignore leaves out products and venvs)
COPY . ./
RUN pip install --no-cache-dir --no-deps -e .
