# The image every exported step runs in: the pinned environment plus this project.
# soopervisor builds it (`soopervisor export TARGET`, without --skip-docker): it packs the
# git-tracked files into dist/*.tar.gz next to this file, then runs `docker build`.
FROM python:3.11-slim

ENV BENTOML_DO_NOT_TRACK=true PLOOMBER_STATS_ENABLED=false PIP_DISABLE_PIP_VERSION_CHECK=1

COPY requirements.lock.txt project/requirements.lock.txt
RUN pip install --no-cache-dir --requirement project/requirements.lock.txt

COPY dist/* project/
WORKDIR /project/

# extract the project (pipeline.yaml, env.yaml, notebooks, data, src) and install it
RUN tar --strip-components=1 -zxvf *.tar.gz && rm *.tar.gz \
    && pip install --no-cache-dir --no-deps -e .
