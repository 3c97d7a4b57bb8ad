// JSON schemas of the two operator resources the manifests use, written for this project
// from the operators' API references (CloudNativePG postgresql.cnpg.io/v1 Cluster, 1.2x;
// RabbitMQ Cluster Operator rabbitmq.com/v1beta1 RabbitmqCluster, 2.x). They cover the
// fields we use (and a few neighbours) strictly: an unknown or misspelt field fails, as it
// would against the installed CRD with strict field validation. The operators' CRDs
// themselves cannot be fetched offline. Core types inside (resources, affinity) are
// checked with kubernetes-models by validate.mjs (see CORE_FIELDS).

const quantity = {
  anyOf: [
    { type: "integer" },
    {
      type: "string",
      pattern: "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$",
    },
  ],
};
const stringMap = { type: "object", additionalProperties: { type: "string" } };
const metadata = {
  type: "object",
  required: ["name"],
  properties: { name: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: 50 } },
};

export const CRD_SCHEMAS = {
  "postgresql.cnpg.io/v1/Cluster": {
    type: "object",
    additionalProperties: false,
    required: ["apiVersion", "kind", "metadata", "spec"],
    properties: {
      apiVersion: { const: "postgresql.cnpg.io/v1" },
      kind: { const: "Cluster" },
      metadata,
      spec: {
        type: "object",
        additionalProperties: false,
        required: ["instances", "storage"],
        properties: {
          instances: { type: "integer", minimum: 1 },
          imageName: { type: "string", minLength: 1 },
          primaryUpdateStrategy: { enum: ["unsupervised", "supervised"] },
          primaryUpdateMethod: { enum: ["switchover", "restart"] },
          enableSuperuserAccess: { type: "boolean" },
          minSyncReplicas: { type: "integer", minimum: 0 },
          maxSyncReplicas: { type: "integer", minimum: 0 },
          startDelay: { type: "integer", minimum: 1 },
          stopDelay: { type: "integer", minimum: 1 },
          bootstrap: {
            type: "object",
            additionalProperties: false,
            properties: {
              initdb: {
                type: "object",
                additionalProperties: false,
                properties: {
                  database: { type: "string", minLength: 1 },
                  owner: { type: "string", minLength: 1 },
                  secret: {
                    type: "object",
                    additionalProperties: false,
                    required: ["name"],
                    properties: { name: { type: "string" } },
                  },
                  dataChecksums: { type: "boolean" },
                  encoding: { type: "string" },
                  localeCollate: { type: "string" },
                  localeCType: { type: "string" },
                  walSegmentSize: { type: "integer", minimum: 1, maximum: 1024 },
                },
              },
            },
          },
          storage: {
            type: "object",
            additionalProperties: false,
            properties: {
              size: quantity,
              storageClass: { type: "string" },
              resizeInUseVolumes: { type: "boolean" },
            },
          },
          walStorage: { $ref: "#/properties/spec/properties/storage" },
          postgresql: {
            type: "object",
            additionalProperties: false,
            properties: {
              parameters: stringMap,
              pg_hba: { type: "array", items: { type: "string" } },
              shared_preload_libraries: { type: "array", items: { type: "string" } },
            },
          },
          resources: { type: "object" },
          affinity: {
            type: "object",
            additionalProperties: false,
            properties: {
              enablePodAntiAffinity: { type: "boolean" },
              topologyKey: { type: "string" },
              podAntiAffinityType: { enum: ["preferred", "required"] },
              nodeSelector: stringMap,
              tolerations: { type: "array", items: { type: "object" } },
            },
          },
          inheritedMetadata: {
            type: "object",
            additionalProperties: false,
            properties: { labels: stringMap, annotations: stringMap },
          },
          monitoring: {
            type: "object",
            additionalProperties: false,
            properties: { enablePodMonitor: { type: "boolean" } },
          },
        },
      },
    },
  },

  "rabbitmq.com/v1beta1/RabbitmqCluster": {
    type: "object",
    additionalProperties: false,
    required: ["apiVersion", "kind", "metadata"],
    properties: {
      apiVersion: { const: "rabbitmq.com/v1beta1" },
      kind: { const: "RabbitmqCluster" },
      metadata,
      spec: {
        type: "object",
        additionalProperties: false,
        properties: {
          replicas: { type: "integer", minimum: 0 },
          image: { type: "string", minLength: 1 },
          imagePullSecrets: { type: "array", items: { type: "object" } },
          resources: { type: "object" },
          affinity: { type: "object" },
          tolerations: { type: "array", items: { type: "object" } },
          terminationGracePeriodSeconds: { type: "integer", minimum: 0 },
          delayStartSeconds: { type: "integer", minimum: 0 },
          skipPostDeploySteps: { type: "boolean" },
          persistence: {
            type: "object",
            additionalProperties: false,
            properties: { storage: quantity, storageClassName: { type: "string" } },
          },
          rabbitmq: {
            type: "object",
            additionalProperties: false,
            properties: {
              additionalConfig: { type: "string", maxLength: 100000 },
              advancedConfig: { type: "string", maxLength: 100000 },
              envConfig: { type: "string", maxLength: 100000 },
              additionalPlugins: {
                type: "array",
                maxItems: 100,
                items: { type: "string", pattern: "^\\w+$" },
              },
            },
          },
          service: {
            type: "object",
            additionalProperties: false,
            properties: {
              type: { enum: ["ClusterIP", "LoadBalancer", "NodePort"] },
              annotations: stringMap,
              ipFamilyPolicy: { enum: ["SingleStack", "PreferDualStack", "RequireDualStack"] },
            },
          },
          override: { type: "object" },
        },
      },
    },
  },
};

// Core Kubernetes types nested in the operator resources: JSON pointer → kubernetes-models
// module and class, validated (and checked for unknown fields) like a core object.
export const CORE_FIELDS = {
  "postgresql.cnpg.io/v1/Cluster": { "/spec/resources": ["v1/ResourceRequirements", "ResourceRequirements"] },
  "rabbitmq.com/v1beta1/RabbitmqCluster": {
    "/spec/resources": ["v1/ResourceRequirements", "ResourceRequirements"],
    "/spec/affinity": ["v1/Affinity", "Affinity"],
  },
};
