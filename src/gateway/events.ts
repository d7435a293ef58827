import type {
  APIGatewayEventWebsocketRequestContextV2,
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyWebsocketEventV2,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
} from 'aws-lambda';

// The events API Gateway hands our Lambdas, as AWS documents them. Where @types/aws-lambda promises fields
// the documented events lack, these say what arrives.

/**
 * HTTP API Lambda authorizer input, payload 2.0. `cookies` is optional: real events carry it only when the
 * request had cookies (the @types definition marks it required).
 */
export type HttpAuthorizerEvent = Omit<APIGatewayRequestAuthorizerEventV2, 'cookies'> & {
  cookies?: string[];
};

/** HTTP API payload 2.0 integration event behind a Lambda authorizer that returned `context`. */
export type HttpProxyEventWithAuthorizer<TContext> = APIGatewayProxyEventV2WithLambdaAuthorizer<TContext>;

/** `requestContext.authorizer` on WebSocket routes: `principalId` plus the authorizer's context, stringified. */
export type WsAuthorizerContext = { principalId: string } & Record<string, string>;

/**
 * WebSocket `requestContext` as documented. @types requires `messageId`, which only MESSAGE events carry,
 * and lacks `identity`, `authorizer` and the `$disconnect` fields.
 */
export type WsRequestContext = Omit<APIGatewayEventWebsocketRequestContextV2, 'messageId'> & {
  messageId?: string;
  identity: { sourceIp: string; userAgent?: string };
  authorizer?: WsAuthorizerContext;
  disconnectStatusCode?: number;
  disconnectReason?: string;
};

/**
 * WebSocket `$connect` REQUEST authorizer input. Unlike the REST event @types describes with
 * `APIGatewayRequestAuthorizerEvent`, it has no `resource`, `path`, `httpMethod` or `pathParameters`
 * ("the path is fixed") and a WebSocket request context.
 */
export type WsConnectAuthorizerEvent = Pick<
  APIGatewayRequestAuthorizerEvent,
  'type' | 'methodArn' | 'headers' | 'multiValueHeaders' | 'stageVariables'
> & {
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
  requestContext: Omit<
    WsRequestContext,
    'messageId' | 'authorizer' | 'disconnectStatusCode' | 'disconnectReason'
  >;
};

/** WebSocket Lambda proxy integration event (`$connect`, `$default`, `$disconnect`). */
export type WsProxyEvent = Omit<APIGatewayProxyWebsocketEventV2, 'requestContext'> & {
  requestContext: WsRequestContext;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
};
