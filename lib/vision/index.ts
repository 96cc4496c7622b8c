/** torchvision's counterparts that are not data loading (that is torch.data): utils for pictures. */
export * as utils from './utils';
