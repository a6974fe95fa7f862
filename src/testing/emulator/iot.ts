/**
 * Success bodies of the emulated IoT Platform API (2018-01-20), shaped so that
 * `@alicloud/iot20180120` parses them.
 *
 * @internal
 */
import { createHash } from 'node:crypto';
import type { EmulatorProduct } from './types.js';

/** IoT Platform API version. */
export const IOT_VERSION = '2018-01-20';

/** Products served when the options give none. */
export const DEFAULT_PRODUCTS: readonly EmulatorProduct[] = Object.freeze([
  { productKey: 'a1EmuLamp01', productName: 'Emulated lamp', nodeType: 0, dataFormat: 1, deviceCount: 3 },
  { productKey: 'a1EmuGate01', productName: 'Emulated gateway', nodeType: 1, dataFormat: 1, deviceCount: 1 },
]);

const CREATED_AT = Date.UTC(2024, 0, 15, 8, 0, 0);

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

function positiveInt(value: string | undefined, fallback: number, max: number): number {
  const n = value === undefined ? Number.NaN : Number(value);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, max) : fallback;
}

/**
 * The body of a product API success, by action: QueryProductList and QueryDeviceDetail are
 * modelled; every other action answers `{ RequestId, Success: true }`.
 */
export function iotBody(
  action: string,
  params: Record<string, string>,
  products: readonly EmulatorProduct[],
  requestId: string,
): Record<string, unknown> {
  if (action === 'QueryProductList') {
    const currentPage = positiveInt(params.CurrentPage, 1, 1_000_000);
    const pageSize = positiveInt(params.PageSize, 10, 200);
    const start = (currentPage - 1) * pageSize;
    const page = products.slice(start, start + pageSize);
    return {
      RequestId: requestId,
      Success: true,
      Code: '',
      Data: {
        CurrentPage: currentPage,
        PageSize: pageSize,
        PageCount: Math.ceil(products.length / pageSize),
        Total: products.length,
        List: {
          ProductInfo: page.map((p) => ({
            ProductKey: p.productKey,
            ProductName: p.productName,
            NodeType: p.nodeType ?? 0,
            DataFormat: p.dataFormat ?? 1,
            AuthType: p.authType ?? 'secret',
            Description: p.description ?? '',
            DeviceCount: p.deviceCount ?? 0,
            GmtCreate: CREATED_AT,
          })),
        },
      },
    };
  }
  if (action === 'QueryDeviceDetail') {
    let product: EmulatorProduct | undefined;
    let deviceName = params.DeviceName;
    if (params.ProductKey !== undefined && deviceName !== undefined) {
      product = products.find((p) => p.productKey === params.ProductKey);
    } else if (params.IotId !== undefined) {
      product = products[0];
      deviceName = `device-${digest(params.IotId).slice(0, 8)}`;
    } else {
      return {
        RequestId: requestId,
        Success: false,
        Code: 'iot.common.InvalidFormattedParameter',
        ErrorMessage: 'Specify IotId, or ProductKey and DeviceName.',
      };
    }
    if (product === undefined || deviceName === undefined) {
      return {
        RequestId: requestId,
        Success: false,
        Code: 'iot.prod.NotExistedProduct',
        ErrorMessage: 'The specified product does not exist.',
      };
    }
    const created = new Date(CREATED_AT);
    const local = created.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');
    const utc = created.toISOString();
    return {
      RequestId: requestId,
      Success: true,
      Code: '',
      Data: {
        IotId: params.IotId ?? digest(`${product.productKey}/${deviceName}`).slice(0, 32),
        ProductKey: product.productKey,
        ProductName: product.productName,
        DeviceName: deviceName,
        DeviceSecret: digest(`secret:${product.productKey}/${deviceName}`).slice(0, 32),
        FirmwareVersion: '1.0.0',
        GmtCreate: local,
        UtcCreate: utc,
        GmtActive: local,
        UtcActive: utc,
        GmtOnline: local,
        UtcOnline: utc,
        Status: 'ONLINE',
        IpAddress: '127.0.0.1',
        NodeType: product.nodeType ?? 0,
        Region: 'cn-shanghai',
        Owner: true,
        Nickname: '',
      },
    };
  }
  return { RequestId: requestId, Success: true };
}
